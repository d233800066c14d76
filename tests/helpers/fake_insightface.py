"""Stand-in buffalo_l files: ONNX models with the shapes of det_10g.onnx and 2d106det.onnx whose
outputs are constants, so insightface's own decoding puts one face at a chosen place.

The real weights cannot be fetched here; these run the whole insightface path (routing by input
shape, SCRFD anchor decoding, the 106-point crop transform) on deterministic outputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DET_SIZE = 512
STRIDES = (8, 16, 32)
ANCHORS = 2
LANDMARK_SIZE = 192
# 106-point indices the aligner averages (latentsync.face.insightface_detector)
GROUPS = ([43, 48, 49, 51, 50], [101, 102, 103, 104, 105], [74, 77, 83, 86])


def _constant_model(
    path: Path, input_name: str, input_shape: list[int], outputs: dict[str, np.ndarray]
) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, infos = [], []
    for name, value in outputs.items():
        value = value.astype(np.float32)
        nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name)))
        infos.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(
        nodes, "stand_in", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)], infos
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def write_detector(path: Path, frame_hw: tuple[int, int], box: tuple[float, float, float, float]) -> Path:
    """SCRFD-shaped model reporting one face at ``box`` (frame pixels) in a frame of ``frame_hw``."""
    height, width = frame_hw
    # SCRFD letterboxes the frame into the top-left of its square input (as insightface computes it)
    det_scale = DET_SIZE / height if height > width else int(DET_SIZE * height / width) / height
    x1, y1, x2, y2 = (v * det_scale for v in box)
    scores, boxes, points = {}, {}, {}
    for stride in STRIDES:
        cells = DET_SIZE // stride
        scores[stride] = np.zeros((cells * cells * ANCHORS, 1))
        boxes[stride] = np.zeros((cells * cells * ANCHORS, 4))
        points[stride] = np.zeros((cells * cells * ANCHORS, 10))
    stride = 32
    cells = DET_SIZE // stride
    col, row = int(round((x1 + x2) / 2 / stride)), int(round((y1 + y2) / 2 / stride))
    cx, cy = col * stride, row * stride
    index = (row * cells + col) * ANCHORS
    scores[stride][index] = 0.9
    boxes[stride][index] = np.array([cx - x1, cy - y1, x2 - cx, y2 - cy]) / stride
    outputs = {f"score_{s}": scores[s] for s in STRIDES}
    outputs.update({f"bbox_{s}": boxes[s] for s in STRIDES})
    outputs.update({f"kps_{s}": points[s] for s in STRIDES})
    return _constant_model(path, "input.1", [1, 3, DET_SIZE, DET_SIZE], outputs)


def write_landmarks(path: Path, box: tuple[float, float, float, float], landmarks3: np.ndarray) -> Path:
    """106-point model whose eyebrow/nose groups land on ``landmarks3`` for a face detected at ``box``."""
    x1, y1, x2, y2 = box
    centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    scale = LANDMARK_SIZE / (max(x2 - x1, y2 - y1) * 1.5)
    points = np.tile(centre, (106, 1))
    for group, target in zip(GROUPS, np.asarray(landmarks3, dtype=np.float64)):
        points[group] = target
    normalised = (points - centre) * scale / (LANDMARK_SIZE // 2)
    return _constant_model(
        path, "data", [1, 3, LANDMARK_SIZE, LANDMARK_SIZE], {"fc1": normalised.reshape(1, 212)}
    )


def write_buffalo_l(
    folder: Path, frame_hw: tuple[int, int], box: tuple[float, float, float, float], landmarks3: np.ndarray
) -> Path:
    """``folder/models/buffalo_l/{det_10g,2d106det}.onnx`` (an ``--aux-dir``); returns ``folder``."""
    target = Path(folder) / "models" / "buffalo_l"
    write_detector(target / "det_10g.onnx", frame_hw, box)
    write_landmarks(target / "2d106det.onnx", box, landmarks3)
    return Path(folder)
