"""Starting the web server: local-only by default, no analytics, files only from the app's temp dir."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from latentsync.app.jobs import JobManager
from latentsync.app.settings import AppSettings
from latentsync.app.ui import THEME, build_ui

logger = logging.getLogger(__name__)


def quiet_gradio_environment(temp_root: Path) -> None:
    """Set before gradio is imported: no phoning home, uploads into our own temp dir."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["GRADIO_TEMP_DIR"] = str(temp_root)
    os.environ.setdefault("GRADIO_SSR_MODE", "False")


def make_temp_root(settings: AppSettings) -> tuple[Path, bool]:
    """The one directory the app may read and serve from; True if we created it (and remove it)."""
    if settings.temp_root is not None:
        root = Path(settings.temp_root).resolve()
        root.mkdir(parents=True, exist_ok=True)
        return root, False
    return Path(tempfile.mkdtemp(prefix="latentsync-app-")).resolve(), True


def serve(settings: AppSettings) -> None:
    """Build the page and serve it until interrupted; then stop jobs and remove the temp files."""
    root, owned = make_temp_root(settings)
    quiet_gradio_environment(root)

    jobs = JobManager(root, keep_seconds=settings.keep_results_seconds)
    stop_janitor = jobs.start_janitor()
    demo = build_ui(settings, jobs)
    demo.queue(default_concurrency_limit=1)
    if settings.share:
        logger.warning("--share: the app is reachable from the internet through a gradio.live link")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("listening on %s: anyone who can reach this host can use the app", settings.host)
    logger.info("temporary files in %s", root)
    try:
        demo.launch(
            server_name=settings.host,
            server_port=settings.port,
            share=settings.share,
            auth=settings.auth,
            max_file_size=settings.max_upload_bytes,
            allowed_paths=[str(root)],
            show_error=False,
            ssr_mode=False,
            mcp_server=False,
            enable_monitoring=False,
            footer_links=["gradio", "settings"],
            theme=THEME,
        )
    finally:
        stop_janitor.set()
        jobs.shutdown()
        if owned:
            shutil.rmtree(root, ignore_errors=True)
