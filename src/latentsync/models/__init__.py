"""Pure torch modules whose state-dict keys match the published checkpoints."""
