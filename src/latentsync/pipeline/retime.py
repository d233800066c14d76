"""The model on its 25 fps training time base while the output keeps its own frame rate.

The UNet's motion modules and its Whisper-to-frame mapping were trained on 25 fps clips. Output
frame ``j`` (time ``j / out_fps``) shows model frame ``k(j) = floor(j * 25 / out_fps)``, the one
whose 40 ms period contains it; model frame ``k`` is generated from the first output frame of that
period (for an output slower than 25 fps, from the latest earlier one). The generated crop is in
aligned face coordinates, so each output frame pastes it with its *own* alignment: the head keeps
the source's motion, the mouth moves on the 25 fps timeline.

Model frames are formed per resumable segment (output frames ``m * S .. (m+1) * S - 1``) from that
segment's output frames only, so a resumed run rebuilds exactly the chunks an uninterrupted run
made. A model frame straddling a segment boundary is generated once in each segment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from fractions import Fraction

from latentsync.pipeline.faces import FrameItem

_EPS = 1e-9
_OUTPUTS = "outputs"


def model_frame_of(output_index: int, output_fps: Fraction, model_fps: Fraction) -> int:
    """The model frame whose period contains output frame ``output_index``."""
    return math.floor(output_index * float(model_fps) / float(output_fps) + _EPS)


class Retimer:
    """Output frames (source rate) -> model frames (25 fps) and the generated crops back."""

    def __init__(
        self, output_fps: Fraction, model_fps: Fraction, segment_frames: int, model_audio_frames: int
    ):
        self.output_fps = Fraction(output_fps)
        self.model_fps = Fraction(model_fps)
        self.segment_frames = segment_frames
        self.model_audio_frames = model_audio_frames

    def _model_item(self, k: int, source: FrameItem, segment: int, first: bool) -> FrameItem:
        item = FrameItem(
            index=k,
            frame=source.frame,
            face=source.face,
            affine=source.affine,
            in_audio=source.in_audio and k < self.model_audio_frames,
            state=source.state if first else None,
            segment=segment,
        )
        item.extra[_OUTPUTS] = [source] if first else []
        return item

    def model_items(self, outputs: Iterable[FrameItem]) -> Iterator[FrameItem]:
        """Model frames in order, each carrying the output frames that will show it."""
        current: FrameItem | None = None
        last: FrameItem | None = None
        for item in outputs:
            segment = item.index // self.segment_frames
            k = model_frame_of(item.index, self.output_fps, self.model_fps)
            if current is not None and current.segment == segment and current.index == k:
                current.extra[_OUTPUTS].append(item)
                last = item
                continue
            if current is not None:
                yield current
                if current.segment == segment:
                    for skipped in range(current.index + 1, k):  # output slower than 25 fps
                        yield self._model_item(skipped, last, segment, first=False)
            current = self._model_item(k, item, segment, first=True)
            last = item
        if current is not None:
            yield current

    @staticmethod
    def outputs_of(model: FrameItem) -> Iterator[FrameItem]:
        """The output frames of a model frame, each given its generated crop and fade weight."""
        for output in model.extra.pop(_OUTPUTS):
            output.face = None
            if model.generated is not None and output.has_face:
                output.generated = model.generated
                output.alpha = model.alpha
            else:
                output.generated = None
                output.alpha = 0.0
            yield output
        model.generated = None
