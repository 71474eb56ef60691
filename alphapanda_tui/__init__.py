"""AlphaPanda console: the Textual app, the ``alphapanda`` CLI and the composition root."""
