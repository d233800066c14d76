"""The web form's values as the page submits them, for tests that drive the handlers without a browser."""

from __future__ import annotations

from latentsync.app import form


def values(**kw) -> form.FormValues:
    base = dict(
        video="v.mp4",
        audio="a.wav",
        steps=20,
        guidance_scale=1.5,
        seed=1247,
        deepcache=False,
        face_choice=form.FACE_LARGEST,
        face_index=0,
        fps_choice=form.FPS_SOURCE,
        crf=18,
        model_choice="LatentSync 1.6",
        checkpoint_path="",
    )
    base.update(kw)
    return form.FormValues(**base)
