"""The Gradio web app: one lip-sync job at a time per device, progress, cancel, friendly errors."""
