"""``LipSyncRun``: the stages of one lip-sync job over a range of output frames, in bounded memory.

Threads: decode -> faces -> [main thread: chunk planning + model] -> paste back -> encode, joined
by small queues, so memory is O(chunk) whatever the length. ``render(start, stop)`` writes the
segments of output frames ``start .. stop-1``; a single process renders the whole video at once,
a worker of a multi-worker run one segment (reading a few frames past it, so its chunking and
fades equal the whole-video run's). Segments never share a model call, so either way the frames
are the same.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from latentsync.audio.frame_features import FrameFeatureCursor
from latentsync.audio.whisper import MelScan
from latentsync.face.align import crop_size
from latentsync.face.blend_region import paste_geometry
from latentsync.face.mask import mouth_mask
from latentsync.face.paste_back import paste_back_roi
from latentsync.face.search import gray_if_source_is
from latentsync.pipeline.chunker import Chunk, ChunkPlanner
from latentsync.pipeline.crops import crops_to_paste
from latentsync.pipeline.estimate import vae_frames_for
from latentsync.pipeline.faces import FrameItem, TrackedFaces
from latentsync.pipeline.fast_paths import attach_deepcache
from latentsync.pipeline.generate import LipsyncGenerator, initial_noise
from latentsync.pipeline.journal import Segment
from latentsync.pipeline.oom import memory_stage
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.retime import model_frame_of
from latentsync.pipeline.source import iter_output_frames
from latentsync.pipeline.threads import END, StageRunner
from latentsync.pipeline.timeline import Timeline
from latentsync.pipeline.timing import NO_TIMES, StageTimes
from latentsync.video.writer import VideoWriter

HANDOFF_FRAMES = 4  # queue size between the lightweight stages
SegmentDone = Callable[[Segment, dict | None, int], None]  # (segment, state at its end, frames with face)
FrameDone = Callable[[int], None]  # output index just encoded


def lookahead_frames(options: InferenceOptions, timeline: Timeline) -> int:
    """Output frames past a segment that decide its last chunk and fade (see pipeline/chunker.py)."""
    model_frames = options.fade_frames + max(1, options.min_face_frames) + 4
    return math.ceil(model_frames * float(timeline.out_fps) / float(timeline.model_fps)) + 2


class LipSyncRun:
    """One job's stages; settings come in at construction, ``render`` runs them over a frame range."""

    def __init__(
        self,
        options: InferenceOptions,
        models,
        timeline: Timeline,
        video_info,
        faces: TrackedFaces,
        work_dir: Path,
        audio_scan: MelScan,
        enhancer=None,
        timings: StageTimes = NO_TIMES,
        cancel: threading.Event | None = None,
    ):
        self.options = options
        self.models = models
        self.timeline = timeline
        self.video_info = video_info
        self.faces = faces
        self.work_dir = work_dir
        self.audio_scan = audio_scan  # the driving audio's first pass (audio/whisper.scan_audio)
        self.enhancer = enhancer
        self.timings = timings
        self.cancel = cancel
        self.retimer = timeline.retimer()
        self.crop_w, self.crop_h = crop_size(models.resolution)
        self.noise = initial_noise(options.seed, models.resolution // 8)

    # --- the stages ------------------------------------------------------------------------------

    def decode(self, start: int, stop: int) -> Iterator[FrameItem]:
        frames = iter_output_frames(
            self.options.video, self.video_info.fps, self.timeline.out_fps, start, stop
        )
        for index, frame in self.timings.timed_iter("decode", frames):
            yield FrameItem(index=index, frame=frame, in_audio=index < self.timeline.audio_frames)

    def find_faces(self, items: Iterator[FrameItem], keep_from: int) -> Iterator[FrameItem]:
        """Faces of every frame with audio; frames before ``keep_from`` only extend the face track."""
        try:
            for item in items:
                if item.in_audio:
                    with memory_stage("face detection"):
                        self.faces.process(item)
                if item.index < keep_from:
                    continue
                if item.index % self.timeline.segment_frames == 0:
                    item.state = {}  # the planner records its state here (resume point)
                yield item
        finally:
            self.faces.save()

    def paste(self, items: Iterator[FrameItem]) -> Iterator[FrameItem]:
        for item in items:
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
                    item.frame = paste_back_roi(item.frame, face, affine, region=region, alpha=item.alpha)
            item.generated = None
            yield item

    def encode(
        self,
        items: Iterator[FrameItem],
        start: int,
        stop: int,
        on_segment: SegmentDone,
        on_frame: FrameDone | None,
    ) -> None:
        """Frames into one file per segment; each finished file is synced, renamed and reported."""

        writer, seg_start, seg_faces = None, start, 0
        for item in items:
            if item.index % self.timeline.segment_frames == 0 and writer is not None:
                on_segment(_finish_file(writer, seg_start, item.index), item.state, seg_faces)
                writer, seg_faces = None, 0
            if writer is None:
                seg_start = item.index
                writer = VideoWriter(
                    self.work_dir / f"seg_{item.index:08d}.part.mp4",
                    self.video_info.width,
                    self.video_info.height,
                    self.timeline.out_fps,
                    codec=self.options.codec,
                    crf=self.options.crf,
                )
            with self.timings.measure("encode", 1):
                writer.write(item.frame)
            seg_faces += int(item.has_face)
            if on_frame is not None:
                on_frame(item.index)
        if writer is not None:
            on_segment(_finish_file(writer, seg_start, stop), None, seg_faces)

    def make_generator(self, step_hook) -> LipsyncGenerator:
        models = self.models
        return LipsyncGenerator(
            models.unet,
            models.vae,
            torch.from_numpy(mouth_mask(models.resolution)),
            self.options.steps,
            self.options.guidance_scale,
            device=models.device,
            dtype=models.dtype,
            step_hook=step_hook,
            timings=self.timings,
            autocast=self.options.autocast,
            vae_frames=vae_frames_for(models),
        )

    def generate(
        self,
        runner: StageRunner,
        units: Iterator,
        stop: int,
        out: queue.Queue,
        generator: LipsyncGenerator,
        cursor,
    ) -> None:
        """Main thread: chunks through the model, ``batch_chunks`` equal chunks of one segment per call."""
        batch: list[Chunk] = []
        last_segment = self._segment_of(stop - 1) if stop > 0 else -1

        def flush() -> None:
            if not batch:
                return
            faces = torch.stack(
                [torch.stack([torch.from_numpy(i.face).permute(2, 0, 1) for i in c.items]) for c in batch]
            )
            with self.timings.measure("audio", sum(len(c) for c in batch)), memory_stage("audio features"):
                audio = torch.stack([torch.stack([cursor.chunk(i.index) for i in c.items]) for c in batch])
            generated = generator.generate(faces, audio, self.noise).output  # [B, F, 3, r, r]
            for chunk, frames in zip(batch, generated):
                crops = crops_to_paste(
                    frames,
                    [i.affine for i in chunk.items],
                    self.crop_w,
                    self.crop_h,
                    self.enhancer,
                    self.timings,
                )
                for item, face in zip(chunk.items, crops):
                    item.generated, item.face = face, None
                    self._put_outputs(runner, out, item)
            batch.clear()

        for unit in units:
            first = unit.items[0] if isinstance(unit, Chunk) else unit
            if self._segment_of_item(first) > last_segment:
                continue  # look-ahead past this render's range: it only informed the planner
            if isinstance(unit, Chunk):
                if batch and (
                    len(batch[0]) != len(unit)
                    or self._segment_of_item(batch[0].items[0]) != self._segment_of_item(first)
                ):
                    flush()
                batch.append(unit)
                if len(batch) >= max(1, self.options.batch_chunks):
                    flush()
            else:
                flush()
                self._put_outputs(runner, out, unit)
        flush()
        runner.put(out, END)

    # --- wiring ----------------------------------------------------------------------------------

    def render(
        self,
        start: int,
        stop: int,
        planner_state: dict | None,
        on_segment: SegmentDone,
        on_frame: FrameDone | None = None,
        read_until: int | None = None,
    ) -> ChunkPlanner:
        """Write the segments of output frames ``start .. stop-1``; returns the planner (its counts)."""

        read_until = stop if read_until is None else read_until
        lacking = self.faces.track.stop < min(start, self.timeline.audio_frames)
        decode_from = self.faces.track.stop if lacking else start  # the face track must reach ``start``
        first_model_frame = (
            start
            if self.retimer is None
            else model_frame_of(start, self.timeline.out_fps, self.timeline.model_fps)
        )
        cursor = FrameFeatureCursor(
            self.models.whisper,
            self.options.audio,
            fps=float(self.timeline.model_fps),
            first_frame=first_model_frame,
            scan=self.audio_scan,
        )
        planner = new_planner(self.options, self.timeline, self.models.num_frames, planner_state)
        deepcache, hook = attach_deepcache(self.options, self.models)
        generator = self.make_generator(hook)
        runner = StageRunner(self.cancel)
        # Frames in flight bound the memory (a 4K frame is 25 MB): the planner holds one batch of
        # chunks plus the fade look-ahead; the generated queue takes a whole batch so the model can
        # start the next while paste-back drains it; the others only smooth out jitter.
        depth = self.models.num_frames * max(1, self.options.batch_chunks)
        decoded, found, generated, pasted = (
            queue.Queue(maxsize=n) for n in (HANDOFF_FRAMES, HANDOFF_FRAMES, depth, HANDOFF_FRAMES)
        )
        runner.start("decode", lambda: self.decode(decode_from, read_until), decoded)
        runner.start("faces", lambda: self.find_faces(runner.iterate(decoded), start), found)
        runner.start("paste", lambda: self.paste(runner.iterate(generated)), pasted)
        runner.start(
            "encode", lambda: self.encode(runner.iterate(pasted), start, stop, on_segment, on_frame), None
        )
        error: BaseException | None = None
        try:
            model_items = runner.iterate(found)
            if self.retimer is not None:
                model_items = self.retimer.model_items(model_items)
            self.generate(runner, planner.plan(model_items), stop, generated, generator, cursor)
        except BaseException as exc:  # noqa: BLE001 - every stage must stop first
            error = exc
        try:
            runner.finish(error)
        finally:
            if deepcache is not None:
                deepcache.disable()  # the models may serve the next job (app, batch)
        return planner

    def _segment_of(self, index: int) -> int:
        return index // self.timeline.segment_frames

    def _segment_of_item(self, item: FrameItem) -> int:
        return item.segment if item.segment is not None else self._segment_of(item.index)

    def _put_outputs(self, runner: StageRunner, out: queue.Queue, item: FrameItem) -> None:
        outputs = iter((item,)) if self.retimer is None else self.retimer.outputs_of(item)
        for output in outputs:
            runner.put(out, output)


def _finish_file(writer, start: int, stop: int) -> Segment:
    writer.close()
    part = Path(writer.path)
    final = part.with_name(part.name.replace(".part.mp4", ".mp4"))
    with open(part, "rb") as f:
        os.fsync(f.fileno())
    os.replace(part, final)
    return Segment(start, stop, final.name)


def new_planner(
    options: InferenceOptions, timeline: Timeline, num_frames: int, state: dict | None = None
) -> ChunkPlanner:
    """The chunk planner of a job: one construction for the renderer and for the segment plan, which
    must decide alike for workers' segments to equal a single run's frames."""
    planner = ChunkPlanner(num_frames, timeline.segment_frames, options.fade_frames, options.min_face_frames)
    if state:
        planner.load_state_dict(state)
    return planner


def planned_segment_states(options: InferenceOptions, timeline: Timeline, track, num_frames: int):
    """The planner's state at every segment start, and the frames its brief-face guard passes,
    from the face track alone (no frames): what lets workers render segments independently."""
    planner = new_planner(options, timeline, num_frames)
    heads: dict[int, dict] = {}

    def light_items() -> Iterator[FrameItem]:
        for index in range(timeline.total):
            in_audio = index < timeline.audio_frames
            item = FrameItem(
                index=index, frame=None, affine=track.affine(index) if in_audio else None, in_audio=in_audio
            )
            if index % timeline.segment_frames == 0:
                item.state = heads.setdefault(index, {})
            yield item

    items = light_items()
    retimer = timeline.retimer()
    for _unit in planner.plan(items if retimer is None else retimer.model_items(items)):
        pass
    return {start: state.get("planner") for start, state in heads.items()}, planner.brief_frames
