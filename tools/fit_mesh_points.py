"""Fit the MediaPipe-mesh -> template-point mapping (writes src/latentsync/face/mesh_fit_data.py).

insightface's buffalo_l weights cannot be fetched on this project's machines (no model hub, and no
PyPI package ships them), so the three points are fitted to the template geometry instead of to
insightface landmarks:

1. The mesh of every frame of the demo clips (static mode, full resolution).
2. Generalised Procrustes over those meshes: the mean face, turned so the outer eye corners are
   level, centred between them, with unit eye-corner distance.
3. Anchors: the mesh points above the nose tip (eyes, brows, forehead, nose bridge): rigid while
   talking. Their mean shape is what the runtime fits each frame's mesh to.
4. Targets: the template triangle (eyebrow centres level, nose centred below them, template
   proportions: no roll or shape of its own). Its size and place come from the only insightface
   landmarks there are, the golden ones of demo1 frames 0-2 (``align_restore``), seen in the
   mean-face frame (3 numbers: scale, x, y); ``--no-golden`` uses the eyebrow/nose point groups of
   the earlier mapping instead, centred on the face's axis.

Usage: python -m tools.fit_mesh_points [--every N] [--no-golden]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import av
import numpy as np

from latentsync.face.align import TEMPLATE_POINTS
from latentsync.face.mediapipe_detector import MediaPipeFaceDetector
from latentsync.face.mesh_points import landmarks3_from_groups
from latentsync.face.similarity import fit_similarity
from tests.helpers.golden import MEDIA

logger = logging.getLogger("fit_mesh_points")

OUT = Path(__file__).resolve().parents[1] / "src" / "latentsync" / "face" / "mesh_fit_data.py"
CLIPS = ("demo1_video.mp4", "demo2_video.mp4")
EYE_OUTER = (33, 263)  # image-left, image-right outer eye corners
NOSE_TIP = 1


def collect_meshes(every: int) -> list[np.ndarray]:
    meshes = []
    with MediaPipeFaceDetector(max_num_faces=1) as detector:
        for clip in CLIPS:
            with av.open(str(MEDIA / clip)) as container:
                for index, frame in enumerate(container.decode(video=0)):
                    if index % every:
                        continue
                    faces = detector.detect(frame.to_ndarray(format="rgb24"))
                    if faces:
                        meshes.append(faces[0].landmarks.astype(np.float64))
    return meshes


def apply(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ affine[:, :2].T + affine[:, 2]


def procrustes_mean(shapes: list[np.ndarray], eyes: tuple[int, int], iterations: int = 5) -> np.ndarray:
    mean = shapes[0]
    for _ in range(iterations):
        aligned = [apply(fit_similarity(s, mean).affine, s) for s in shapes]
        mean = normalise(np.mean(aligned, axis=0), eyes)
    return mean


def normalise(mean: np.ndarray, eyes: tuple[int, int]) -> np.ndarray:
    """Level outer eye corners (indices ``eyes`` into ``mean``), origin between them, unit distance apart."""
    left, right = mean[eyes[0]], mean[eyes[1]]
    angle = np.arctan2(right[1] - left[1], right[0] - left[0])
    c, s = np.cos(-angle), np.sin(-angle)
    rotated = (mean - (left + right) / 2) @ np.array([[c, -s], [s, c]]).T
    return rotated / np.linalg.norm(right - left)


def golden_in_mean_frame(anchors: list[int], anchor_mean: np.ndarray) -> np.ndarray:
    """The golden insightface points of demo1 frames 0-2, mapped into the mean-face frame, averaged."""
    from tests.helpers.golden import reference
    from tests.helpers.media import demo_frames

    golden = reference("align_restore")
    points = []
    with MediaPipeFaceDetector(max_num_faces=1) as detector:
        for index, frame in enumerate(demo_frames(3, size=(1080, 1920))):
            mesh = detector.detect(frame)[0].landmarks.astype(np.float64)
            to_mean = fit_similarity(mesh[anchors], anchor_mean).affine
            points.append(apply(to_mean, golden[f"frame{index}_landmarks3"].numpy().astype(np.float64)))
    return np.mean(points, axis=0)


def place_template(points: np.ndarray, centre_x: float | None) -> np.ndarray:
    """The template triangle, unrotated, scaled and shifted onto ``points`` (least squares)."""
    template = TEMPLATE_POINTS - TEMPLATE_POINTS.mean(axis=0)
    centred = points - points.mean(axis=0)
    scale = float((template * centred).sum() / (template**2).sum())
    targets = TEMPLATE_POINTS * scale
    offset = (points - targets).mean(axis=0)
    if centre_x is not None:
        offset[0] = centre_x - scale * TEMPLATE_POINTS[2, 0]
    return targets + offset


def fit(every: int, use_golden: bool) -> tuple[list[int], np.ndarray, np.ndarray, int]:
    meshes = collect_meshes(every)
    mean = procrustes_mean(meshes, EYE_OUTER)
    anchors = [i for i in range(len(mean)) if mean[i, 1] <= mean[NOSE_TIP, 1]]
    anchor_eyes = (anchors.index(EYE_OUTER[0]), anchors.index(EYE_OUTER[1]))
    anchor_mean = procrustes_mean([m[anchors] for m in meshes], anchor_eyes)
    # The earlier mapping's points in the mean-face frame, averaged over every frame.
    groups = []
    for mesh in meshes:
        to_mean = fit_similarity(mesh[anchors], anchor_mean).affine
        groups.append(apply(to_mean, landmarks3_from_groups(mesh).astype(np.float64)))
    if use_golden:
        targets = place_template(golden_in_mean_frame(anchors, anchor_mean), centre_x=None)
    else:  # normalise put the origin midway between the outer eye corners: the face's axis
        targets = place_template(np.mean(groups, axis=0), centre_x=0.0)
    return anchors, anchor_mean, targets, len(meshes)


def write(anchors: list[int], anchor_mean: np.ndarray, targets: np.ndarray, frames: int, how: str) -> None:
    def block(values, per_line: int, fmt: str) -> str:
        items = [fmt.format(v) for v in values]
        return "\n".join(" ".join(items[i : i + per_line]) for i in range(0, len(items), per_line))

    OUT.write_text(
        '"""Constants of the mesh -> template-point mapping, written by tools/fit_mesh_points.py\n'
        f"({frames} frames of the demo clips; targets placed by {how}).\n"
        'Do not edit by hand: rerun the tool."""\n\n'
        "import numpy as np\n\n"
        f'ANCHOR_INDICES = tuple(int(i) for i in """\n{block(anchors, 20, "{}")}\n""".split())\n\n'
        "# mean upper-face mesh, [len(ANCHOR_INDICES), 2], eye-corner distance 1\n"
        f'ANCHOR_MEAN = np.array("""\n{block(anchor_mean.reshape(-1), 10, "{:.6f}")}\n""".split(), float).reshape(-1, 2)\n\n'
        "# the aligner's three points (eyebrow centres, nose centre) in the same frame, [3, 2]\n"
        f'TARGETS = np.array("""\n{block(targets.reshape(-1), 6, "{:.6f}")}\n""".split(), float).reshape(-1, 2)\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="use every N-th frame (default: all)")
    parser.add_argument("--no-golden", action="store_true", help="place the template by the point groups")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    anchors, anchor_mean, targets, frames = fit(args.every, not args.no_golden)
    how = "the point groups" if args.no_golden else "the golden insightface points of demo1 frames 0-2"
    write(anchors, anchor_mean, targets, frames, how)
    logger.info("fitted on %d frames, %d anchors -> %s", frames, len(anchors), OUT)


if __name__ == "__main__":
    main()
