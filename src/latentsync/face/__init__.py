"""Faces: detection, main-face tracking, alignment to the model's crop template, mouth mask, paste-back."""
