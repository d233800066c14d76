"""``run_inference``: the streaming lip-sync of one video, in bounded memory, resumable.

Threads: decode -> faces (detect, track, align) -> [main thread: chunking + model] -> paste back
-> encode. Queues between them hold a few chunks, so memory is O(chunk) whatever the length.
Encoded frames go to segment files recorded in a journal; a rerun after a crash continues from
the last finished segment with the saved tracker/aligner state, so its frames equal those of an
uninterrupted run. The output appears only at the end, by rename.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from latentsync.errors import InputError
from latentsync.face.align import crop_size
from latentsync.face.blend_region import paste_geometry
from latentsync.face.mask import mouth_mask
from latentsync.face.paste_back import paste_back_roi
from latentsync.face.search import gray_if_source_is
from latentsync.pipeline.chunker import Chunk, ChunkPlanner
from latentsync.pipeline.crops import crops_to_paste
from latentsync.pipeline.estimate import reports_out_of_memory, vae_frames_for
from latentsync.pipeline.faces import FaceStage, FrameItem
from latentsync.pipeline.fast_paths import apply_fast_paths, attach_deepcache
from latentsync.pipeline.generate import LipsyncGenerator, initial_noise
from latentsync.pipeline.journal import Journal, Segment, work_dir_for
from latentsync.pipeline.model_loading import InferenceModels, load_inference_models
from latentsync.pipeline.oom import memory_stage
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.retime import Retimer
from latentsync.pipeline.source import iter_output_frames
from latentsync.pipeline.threads import END, StageRunner
from latentsync.pipeline.timing import NO_TIMES, StageTimes

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]

HANDOFF_FRAMES = 4  # queue size between the lightweight stages


@dataclass
class InferenceSummary:
    frames: int
    frames_with_face: int
    seconds: float
    output: Path
    resumed_from: int = 0
    passed: dict[str, int] = field(default_factory=dict)  # frames left unchanged, by reason (this run)

    def line(self) -> str:
        passed = ", ".join(f"{count} {why}" for why, count in self.passed.items() if count)
        return (
            f"{self.frames} frames, face in {self.frames_with_face}, {self.seconds:.1f} s"
            f"{f' (resumed at frame {self.resumed_from})' if self.resumed_from else ''}"
            f"{f'; unchanged: {passed}' if passed else ''} -> {self.output}"
        )


def check_inputs(options: InferenceOptions):
    """Probe both inputs (clear one-line errors) before any model is loaded."""
    from latentsync.audio.io import probe_audio
    from latentsync.face.installed import check_detector_installed
    from latentsync.video.probe import probe_video

    check_detector_installed(options.face_detector)
    video_info = probe_video(options.video)
    audio_info = probe_audio(options.audio)
    out = options.output
    if out.exists() and out.is_dir():
        raise InputError(f"output path is a directory: {out}")
    for src in (options.video, options.audio):
        if out.resolve() == src.resolve():
            raise InputError(f"output path must differ from the input {src}")
    if not out.parent.exists():
        raise InputError(f"output directory does not exist: {out.parent}")
    if not out.parent.is_dir():
        raise InputError(f"output folder is not a directory: {out.parent}")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"output directory is not writable: {out.parent}")
    return video_info, audio_info


def output_rate(options: InferenceOptions, source_fps: Fraction) -> Fraction:
    if options.fps:
        return Fraction(options.fps).limit_denominator(1001)
    return source_fps


def model_rate(options: InferenceOptions, out_fps: Fraction) -> Fraction:
    """The UNet's timeline: 25 fps (its training rate) by default, the output's with ``--fps source``."""
    if options.model_fps:
        return Fraction(options.model_fps).limit_denominator(1001)
    return out_fps


class _Stages:
    """The per-run stage functions (one object so threads share the run's settings)."""

    def __init__(
        self,
        options,
        models: InferenceModels,
        video_info,
        out_fps: Fraction,
        total: int,
        audio_frames: int,
        segment_frames: int,
    ):
        self.options = options
        self.models = models
        self.video_info = video_info
        self.out_fps = out_fps
        self.total = total
        self.audio_frames = audio_frames
        self.segment_frames = segment_frames
        self.crop_w, self.crop_h = crop_size(models.resolution)
        self.timings: StageTimes = NO_TIMES
        self.retimer: Retimer | None = None  # set when the model runs on another timeline than the output
        self.enhancer = None  # latentsync.face.enhancer.FaceEnhancer with --enhancer

    def model_frames(self, items: Iterator[FrameItem]) -> Iterator[FrameItem]:
        return items if self.retimer is None else self.retimer.model_items(items)

    def output_frames(self, item: FrameItem) -> Iterator[FrameItem]:
        """The output frames that show a model frame (itself unless retimed)."""
        return iter((item,)) if self.retimer is None else self.retimer.outputs_of(item)

    def decode(self, start: int) -> Iterator[FrameItem]:
        frames = iter_output_frames(self.options.video, self.video_info.fps, self.out_fps, start, self.total)
        for index, frame in self.timings.timed_iter("decode", frames):
            yield FrameItem(index=index, frame=frame, in_audio=index < self.audio_frames)

    def faces(self, runner: StageRunner, decoded: queue.Queue, face_stage: FaceStage) -> Iterator[FrameItem]:
        for item in runner.iterate(decoded):
            if item.index % self.segment_frames == 0:
                item.state = {"faces": face_stage.state_dict()}
            if item.in_audio:
                with memory_stage("face detection"):
                    face_stage.process(item)
            yield item

    def paste(self, runner: StageRunner, generated: queue.Queue) -> Iterator[FrameItem]:
        for item in runner.iterate(generated):
            if item.generated is not None and item.alpha > 0:
                with self.timings.measure("paste", 1), memory_stage("paste-back"):
                    height, width = item.generated.shape[-2:]
                    affine, region = paste_geometry(
                        item.affine,
                        (width, height),
                        self.crop_w,
                        self.crop_h,
                        self.models.resolution,
                        self.options.blend,
                    )
                    face = gray_if_source_is(item.frame, item.generated)  # a gray video stays gray
                    pasted = paste_back_roi(item.frame, face, affine, region=region)
                    if item.alpha < 1.0:
                        pasted = pasted.astype(np.float32) * item.alpha + item.frame.astype(np.float32) * (
                            1 - item.alpha
                        )
                        pasted = np.clip(np.rint(pasted), 0, 255).astype(np.uint8)
                item.frame = pasted
            item.generated = None
            yield item


@reports_out_of_memory  # one sentence with the estimate and a setting that fits; segments stay
def run_inference(
    options: InferenceOptions,
    models: InferenceModels | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timings: StageTimes | None = None,
) -> InferenceSummary:
    """Lip-sync ``options.video`` to ``options.audio``; ``timings`` (optional) collects per-stage busy time."""
    from latentsync.audio.frame_features import FrameFeatureCursor, num_video_frames
    from latentsync.video.atomic import atomic_output
    from latentsync.video.mux import concat_segments, mux_audio
    from latentsync.video.writer import VideoWriter

    started = time.monotonic()
    timings = timings if timings is not None else NO_TIMES
    video_info, audio_info = check_inputs(options)
    enhancer_weights = _enhancer_weights(options)  # a missing file fails before any model loads
    models = models or load_inference_models(options)
    apply_fast_paths(models, options)
    out_fps = output_rate(options, video_info.fps)
    unet_fps = model_rate(options, out_fps)
    cursor = FrameFeatureCursor(models.whisper, options.audio, fps=float(unet_fps))
    audio_frames = num_video_frames(cursor.scan.num_samples, float(out_fps))  # output frames with audio
    if audio_frames <= 0:
        raise InputError(f"the driving audio is too short to cover one frame: {options.audio}")
    total = audio_frames
    if options.keep_video_length:
        video_frames = (
            int(round(video_info.duration * float(out_fps))) if video_info.duration else video_info.num_frames
        )
        total = max(total, video_frames)
    segment_frames = models.num_frames * max(1, options.segment_chunks)

    journal = Journal(work_dir_for(options.output))
    fingerprint = options.fingerprint(models.device.type, models.dtype)  # resolved, never "auto"
    data = journal.open(fingerprint, total, segment_frames, options.resume)
    start = data.next_start
    stages = _Stages(options, models, video_info, out_fps, total, audio_frames, segment_frames)
    stages.timings = timings
    if unet_fps != out_fps:
        stages.retimer = Retimer(out_fps, unet_fps, segment_frames, cursor.num_frames)
    if enhancer_weights is not None:
        from latentsync.face.enhancer import FaceEnhancer

        stages.enhancer = FaceEnhancer(
            enhancer_weights, options.enhancer_strength, models.device, models.dtype
        )

    face_stage = FaceStage(
        options.face_detector,
        models.resolution,
        options.face_index,
        aux_dir=options.aux_dir,
        min_score=options.face_threshold,
        device=str(models.device),
    )
    face_stage.timings = timings
    planner = ChunkPlanner(models.num_frames, segment_frames, options.fade_frames, options.min_face_frames)
    if start and data.state:
        face_stage.load_state_dict(data.state["faces"])
        planner.load_state_dict(data.state["planner"])

    mask = torch.from_numpy(mouth_mask(models.resolution))
    deepcache, deepcache_hook = attach_deepcache(options, models)
    generator = LipsyncGenerator(
        models.unet,
        models.vae,
        mask,
        options.steps,
        options.guidance_scale,
        device=models.device,
        dtype=models.dtype,
        step_hook=deepcache_hook,
    )
    generator.timings = timings
    generator.autocast = options.autocast
    generator.vae_frames = vae_frames_for(models)
    noise = initial_noise(options.seed, models.resolution // 8)

    bar = None
    if not options.quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=start, unit="frame", desc="lip-sync", dynamic_ncols=True)

    runner = StageRunner(cancel)
    # Frames in flight bound the memory (a 4K frame is 25 MB): the chunker holds one batch of
    # chunks plus the fade look-ahead; the generated queue takes a whole batch so the model can
    # start the next while paste-back drains it; the others only smooth out jitter.
    depth = models.num_frames * max(1, options.batch_chunks)
    q_decoded: queue.Queue = queue.Queue(maxsize=HANDOFF_FRAMES)
    q_faces: queue.Queue = queue.Queue(maxsize=HANDOFF_FRAMES)
    q_generated: queue.Queue = queue.Queue(maxsize=depth)
    q_pasted: queue.Queue = queue.Queue(maxsize=HANDOFF_FRAMES)

    def encode() -> None:
        writer = None
        seg_start = start
        seg_faces = 0
        for item in runner.iterate(q_pasted):
            if item.index % segment_frames == 0 and writer is not None:
                _close_segment(writer, journal, seg_start, item.index, item.state, seg_faces)
                writer, seg_faces = None, 0
            if writer is None:
                seg_start = item.index
                name = f"seg_{item.index:08d}"
                writer = VideoWriter(
                    journal.work_dir / f"{name}.part.mp4",
                    video_info.width,
                    video_info.height,
                    out_fps,
                    codec=options.codec,
                    crf=options.crf,
                )
            with timings.measure("encode", 1):
                writer.write(item.frame)
            seg_faces += int(item.has_face)
            if bar is not None:
                bar.update(1)
            if progress is not None:
                progress(item.index + 1, total)
        if writer is not None:
            _close_segment(writer, journal, seg_start, total, None, seg_faces)

    runner.start("decode", lambda: stages.decode(start), q_decoded)
    runner.start("faces", lambda: stages.faces(runner, q_decoded, face_stage), q_faces)
    runner.start("paste", lambda: stages.paste(runner, q_generated), q_pasted)
    runner.start("encode", encode, None)

    main_error: BaseException | None = None
    try:
        _generate_all(
            runner, planner, generator, cursor, noise, stages, q_faces, q_generated, options.batch_chunks
        )
    except BaseException as exc:  # noqa: BLE001 - every stage must stop first
        main_error = exc
    try:
        runner.finish(main_error)
    finally:
        if bar is not None:
            bar.close()
        if deepcache is not None:
            deepcache.disable()  # the models may serve the next job (app, batch)

    if journal.data.next_start != total:
        raise RuntimeError(f"pipeline stopped at frame {journal.data.next_start} of {total}")
    duration = audio_frames / float(out_fps)
    with atomic_output(options.output) as tmp_out:
        joined = journal.work_dir / "joined.mp4"
        concat_segments(journal.segment_paths(), joined)
        mux_audio(joined, options.audio, tmp_out, duration_seconds=duration)
    faces_total = journal.data.faces
    journal.remove()
    passed = dict(face_stage.passed)
    passed[f"face in fewer than {options.min_face_frames} frames in a row"] = planner.brief_frames
    summary = InferenceSummary(total, faces_total, time.monotonic() - started, options.output, start, passed)
    if timings is not NO_TIMES:
        timings.wall_seconds = summary.seconds
    logger.info("done: %s", summary.line())
    return summary


def _close_segment(
    writer, journal: Journal, start: int, stop: int, next_state: dict | None, faces: int
) -> None:
    writer.close()
    part = Path(writer.path)
    final = part.with_name(part.name.replace(".part.mp4", ".mp4"))
    with open(part, "rb") as f:
        os.fsync(f.fileno())
    os.replace(part, final)
    journal.add_segment(Segment(start, stop, final.name), next_state, faces)


def _enhancer_weights(options: InferenceOptions) -> Path | None:
    if not options.enhancer:
        return None
    from latentsync.face.enhancer import enhancer_path

    return enhancer_path(options.enhancer)


def _generate_all(
    runner, planner, generator, cursor, noise, stages, q_faces, q_generated, batch_chunks
) -> None:
    """Main thread: chunks through the model (``batch_chunks`` equal-length chunks per call)."""
    batch: list[Chunk] = []

    def flush() -> None:
        if not batch:
            return
        faces = torch.stack(
            [torch.stack([torch.from_numpy(i.face).permute(2, 0, 1) for i in c.items]) for c in batch]
        )
        with stages.timings.measure("audio", sum(len(c) for c in batch)), memory_stage("audio features"):
            audio = torch.stack([torch.stack([cursor.chunk(i.index) for i in c.items]) for c in batch])
        out = generator.generate(faces, audio, noise).output  # [B, F, 3, r, r]
        for chunk, frames in zip(batch, out):
            crops = crops_to_paste(
                frames,
                [i.affine for i in chunk.items],
                stages.crop_w,
                stages.crop_h,
                stages.enhancer,
                stages.timings,
            )
            for item, face in zip(chunk.items, crops):
                item.generated = face
                item.face = None
                for output in stages.output_frames(item):
                    runner.put(q_generated, output)
        batch.clear()

    for unit in planner.plan(stages.model_frames(runner.iterate(q_faces))):
        if isinstance(unit, Chunk):
            if batch and len(batch[0]) != len(unit):
                flush()
            batch.append(unit)
            if len(batch) >= max(1, batch_chunks):
                flush()
        else:
            flush()
            for output in stages.output_frames(unit):
                runner.put(q_generated, output)
    flush()
    runner.put(q_generated, END)
