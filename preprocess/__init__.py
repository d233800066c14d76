"""Seed-compatible entry points of the data pipeline (``python -m preprocess.data_processing_pipeline``)."""
