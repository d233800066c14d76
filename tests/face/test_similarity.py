"""The closed-form similarity fit and its smoothing state."""

import numpy as np

from latentsync.face.similarity import SmoothedSimilarity, fit_similarity


def test_fit_recovers_an_exact_similarity():
    angle, scale, shift = np.deg2rad(30), 2.5, np.array([40.0, -7.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = np.array([[10.0, 20.0], [50.0, 22.0], [31.0, 60.0]])
    dst = src @ (scale * rotation).T + shift
    fit = fit_similarity(src, dst)
    assert np.allclose(fit.affine[:, :2], scale * rotation) and np.allclose(fit.affine[:, 2], shift)


def test_fit_never_reflects():
    src = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    mirrored = src * [-1, 1]
    linear = fit_similarity(src, mirrored).affine[:, :2]
    assert np.linalg.det(linear) > 0


def test_smoothing_state_round_trips():
    template = np.array([[17.0, 20.0], [58.0, 20.0], [37.5, 40.0]]) * 5.6
    base = np.array([[300.0, 400.0], [420.0, 395.0], [362.0, 470.0]])
    points = [base + [[0, 0], [0, 0], [6.0 * k, -4.0 * k]] for k in range(4)]  # the nose moves: bias changes
    straight = SmoothedSimilarity(template)
    expected = [straight(p) for p in points]
    first, second = SmoothedSimilarity(template), SmoothedSimilarity(template)
    first(points[0])
    first(points[1])
    second.restore(first.state())
    assert np.array_equal(second(points[2]), expected[2]) and np.array_equal(second(points[3]), expected[3])
    assert not np.array_equal(SmoothedSimilarity(template)(points[2]), expected[2])  # the state matters
