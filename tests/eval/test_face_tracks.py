"""Track linking and crops for SyncNet evaluation, on synthetic boxes."""

import numpy as np

from latentsync.eval.face_tracks import box_iou, crop_track, link_tracks


def _box(x: float, y: float, size: float = 150.0) -> list[float]:
    return [x, y, x + size, y + size, 0.99]


def test_box_iou_against_hand_values():
    ious = box_iou(np.array([0, 0, 10, 10.0]), np.array([[0, 0, 10, 10.0], [5, 0, 15, 10], [20, 20, 30, 30]]))
    assert np.allclose(ious, [1.0, 50 / 150, 0.0])


def test_tracks_interpolate_gaps_split_on_jumps_and_drop_short_or_small():
    frames = []
    for f in range(60):
        boxes = []
        if f not in (10, 11, 12):  # a 3-frame gap inside the first track
            boxes.append(_box(100 + f, 50))
        if 20 <= f < 40:  # a second, separate face for 20 frames (too short for min_track=30)
            boxes.append(_box(600, 50))
        if f < 50:
            boxes.append(_box(900, 400, size=40))  # long but tiny: dropped by size
        frames.append(np.array(boxes).reshape(-1, 5))
    tracks = link_tracks(frames, min_track=30)
    assert len(tracks) == 1
    track = tracks[0]
    assert track.frames.tolist() == list(range(60))
    assert np.allclose(track.boxes[11], [111, 50, 261, 200])  # linear through the gap
    short = link_tracks(frames, min_track=15)
    assert sorted(len(t.frames) for t in short) == [20, 60]


def test_a_gap_longer_than_max_gap_starts_a_new_track():
    frames = [np.array([_box(100, 100)]) if f < 20 or f >= 50 else np.empty((0, 5)) for f in range(70)]
    tracks = link_tracks(frames, min_track=10, max_gap=25)
    assert [(t.frames[0], t.frames[-1]) for t in tracks] == [(0, 19), (50, 69)]


def test_crops_follow_the_track_and_pad_outside_the_frame():
    video = np.zeros((30, 300, 400, 3), np.uint8)
    video[:, 100:200, 150:250] = 255  # the "face"
    frames = [np.array([[150, 100, 250, 200, 0.99]]) for _ in range(30)]
    (track,) = link_tracks(frames, min_track=5, min_face_size=50)
    crops = crop_track(video, track)
    assert crops.shape == (30, 224, 224, 3)
    centre = crops[:, 60:120, 80:144]
    assert centre.min() == 255  # the box is inside the crop
    edge = crop_track(np.zeros((30, 120, 120, 3), np.uint8), track)
    assert (edge == 110).any()  # padding value where the window leaves the frame
