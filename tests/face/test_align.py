"""Alignment, model-input resize and paste-back against the original's outputs (align_restore)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from latentsync.face.align import FaceAligner, crop_size
from latentsync.face.paste_back import paste_back_full_frame, paste_back_roi
from tests.face.media import align_reference, demo1_frames
from tests.helpers.golden import assert_close_ref, assert_uint8_close


def test_crop_size_scales_with_resolution():
    assert crop_size(512) == (420, 560)
    assert crop_size(256) == (210, 280)
    face, affine = FaceAligner(256).warp(demo1_frames()[0], align_reference()["frame0_landmarks3"])
    assert face.shape == (280, 210, 3) and affine.shape == (2, 3)


def test_warp_and_resize_match_original_over_three_frames():
    ref = align_reference()
    frames = demo1_frames()
    assert np.array_equal(frames[0], ref["frame0"])  # our decode is the golden frame
    aligner = FaceAligner(512)
    for i, frame in enumerate(frames):  # in order: the translation smoothing carries over
        face, affine = aligner.warp(frame, ref[f"frame{i}_landmarks3"])
        assert face.dtype == np.uint8 and face.shape == (560, 420, 3)
        assert_close_ref(torch.from_numpy(affine), torch.from_numpy(ref[f"frame{i}_affine"]))
        assert_uint8_close(face, ref[f"frame{i}_face"])
        assert_uint8_close(aligner.resize_to_model(face), ref[f"frame{i}_face512"])


def test_smoothing_restarts_after_reset():
    ref = align_reference()
    aligner = FaceAligner(512)
    first = aligner.estimate(ref["frame0_landmarks3"])
    other_shape = ref["frame1_landmarks3"] + np.array([[0, 0], [0, 0], [20, 10]], dtype=np.float32)
    aligner.estimate(other_shape)
    # Without reset the previous frame's bias leaks in: the same landmarks give another matrix.
    carried_over = aligner.estimate(ref["frame0_landmarks3"])
    assert np.abs(carried_over - first)[:, 2].max() > 0.02
    aligner.reset()
    assert np.array_equal(aligner.estimate(ref["frame0_landmarks3"]), first)


@pytest.mark.parametrize("paste", [paste_back_roi, paste_back_full_frame])
def test_paste_back_matches_original(paste):
    ref = align_reference()
    restored = paste(ref["frame0"], torch.from_numpy(ref["frame0_generated_face"]), ref["frame0_affine"])
    assert restored.dtype == np.uint8
    assert_uint8_close(restored, ref["frame0_restored"])


def test_aligner_paste_back_leaves_input_and_far_pixels_alone():
    ref = align_reference()
    frame = ref["frame0"].copy()
    restored = FaceAligner(512).paste_back(frame, ref["frame0_generated_face"], ref["frame0_affine"])
    assert np.array_equal(frame, ref["frame0"])
    changed_rows = np.nonzero((restored != frame).any(axis=(1, 2)))[0]
    assert changed_rows.size > 0
    assert np.array_equal(restored[: changed_rows.min()], frame[: changed_rows.min()])
    assert 500 < changed_rows.min() and changed_rows.max() < 1100  # the face, not the frame


def _upscaled_4k_case():
    ref = align_reference()
    frame = cv2.resize(ref["frame0"], (2160, 3840), interpolation=cv2.INTER_LINEAR)
    aligner = FaceAligner(512)
    face, affine = aligner.warp(frame, ref["frame0_landmarks3"] * 2)
    generated = torch.from_numpy(ref["frame0_generated_face"])
    return frame, face, affine, generated


def test_roi_paste_back_equals_full_frame_at_4k_and_touches_only_its_roi():
    """Timing lives in benchmarks/paste_back.py; here: same pixels, and nothing outside the ROI changes."""
    from latentsync.face.paste_back import WARP_MARGIN, max_feather_width
    from latentsync.face.roi import mapped_crop_roi

    frame, _, affine, generated = _upscaled_4k_case()
    before = frame.copy()
    roi_result = paste_back_roi(frame, generated, affine)
    full_result = paste_back_full_frame(frame, generated, affine)
    assert np.array_equal(frame, before)  # the input is not modified
    assert not np.array_equal(roi_result, frame)
    assert_uint8_close(roi_result, full_result, mean_tol=0.01, max_tol=1)

    crop_height, crop_width = generated.shape[-2:]
    margin = WARP_MARGIN + max_feather_width(crop_height, crop_width, affine) + 1
    roi = mapped_crop_roi(
        cv2.invertAffineTransform(affine.astype(np.float64)),
        crop_height,
        crop_width,
        margin,
        *frame.shape[:2],
    )
    assert roi.width * roi.height < frame.shape[0] * frame.shape[1] / 4  # a real sub-region
    outside = np.ones(frame.shape[:2], dtype=bool)
    outside[roi.slices] = False
    assert np.array_equal(roi_result[outside], frame[outside])  # byte-for-byte outside the ROI


@pytest.mark.parametrize("shift", [(-560.0, 0.0), (0.0, -640.0), (540.0, 1250.0)])
def test_face_partly_outside_frame(shift):
    """Crops and paste-backs of faces cut by the frame edge equal the whole-frame computation."""
    ref = align_reference()
    frame = ref["frame0"]
    landmarks = ref["frame0_landmarks3"] + np.array(shift, dtype=np.float32)
    aligner = FaceAligner(512)
    face, affine = aligner.warp(frame, landmarks)
    whole = cv2.warpAffine(
        frame.astype(np.float32),
        affine.astype(np.float64),
        (420, 560),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(127, 127, 127),
    )
    assert_uint8_close(face, np.clip(whole, 0, 255).astype(np.uint8), mean_tol=0.01, max_tol=1)
    assert (face == 127).all(axis=2).mean() > 0.05  # part of the crop really is outside

    generated = torch.from_numpy(ref["frame0_generated_face"])
    roi_result = paste_back_roi(frame, generated, affine)
    assert not np.array_equal(roi_result, frame)
    assert_uint8_close(roi_result, paste_back_full_frame(frame, generated, affine), mean_tol=0.01, max_tol=1)


def test_face_entirely_outside_frame():
    ref = align_reference()
    frame = ref["frame0"]
    aligner = FaceAligner(512)
    face, affine = aligner.warp(frame, ref["frame0_landmarks3"] + np.float32(5000))
    assert (face == 127).all()
    assert np.array_equal(paste_back_roi(frame, ref["frame0_generated_face"], affine), frame)


def test_paste_back_rejects_face_of_other_size():
    ref = align_reference()
    with pytest.raises(ValueError, match="560, 420"):
        FaceAligner(512).paste_back(ref["frame0"], torch.zeros(3, 512, 512), ref["frame0_affine"])
