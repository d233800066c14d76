"""One stage on one file, resumably: the unit of work the engine ships to a Dask worker.

A finished file has a record JSON (written atomically after its outputs) whose outputs all
exist: it is skipped. Anything else is redone from scratch after deleting the temp files a
killed run may have left. Records of failures (exceptions) are not saved, so a rerun retries.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from pathlib import Path

from latentsync.data.manifest import relative_to_root
from latentsync.data.stage import Settings, StageRecord
from latentsync.data.stages import get_stage
from latentsync.errors import LatentSyncError
from latentsync.video.clip_file import remove_stale_temps

logger = logging.getLogger(__name__)


def load_finished(record_path: Path, root: Path) -> StageRecord | None:
    """The saved record if it is readable and all its outputs exist (paths resolved under ``root``)."""
    if not record_path.is_file():
        return None
    try:
        record = StageRecord.from_json(json.loads(record_path.read_text()))
    except (ValueError, KeyError):
        return None
    record.outputs = [str(root / p) for p in record.outputs]  # absolute paths stay absolute
    if all(Path(p).is_file() for p in record.outputs):
        return record
    return None


def save_record(record_path: Path, record: StageRecord, root: Path) -> None:
    """Outputs are stored relative to ``root`` so a moved or copied output tree stays resumable."""
    data = record.to_json()
    data["outputs"] = [relative_to_root(p, root) for p in record.outputs]
    record_path.parent.mkdir(parents=True, exist_ok=True)
    temp = record_path.with_name(f".{record_path.name}.tmp-{os.getpid()}")
    temp.write_text(json.dumps(data, sort_keys=True))
    os.replace(temp, record_path)


def run_stage_task(
    stage_name: str, src: str, dst: str, record_path: str, root: str, settings: Settings
) -> dict:
    """Returns ``{"record": ..., "computed": bool}`` (JSON-able, cheap to send back)."""
    record_file = Path(record_path)
    finished = load_finished(record_file, Path(root))
    if finished is not None:
        return {"record": finished.to_json(), "computed": False}
    stage = get_stage(stage_name)
    dst_path = Path(dst)
    remove_stale_temps(dst_path.parent, dst_path.stem)
    try:
        record = stage.run(Path(src), dst_path, settings)
    except LatentSyncError:
        raise
    except Exception as exc:
        logger.warning("%s failed on %s: %s", stage_name, src, traceback.format_exc(limit=3))
        failed = StageRecord.rejected(f"failed: {type(exc).__name__}: {exc}")
        return {"record": failed.to_json(), "computed": True}
    save_record(record_file, record, Path(root))
    return {"record": record.to_json(), "computed": True}
