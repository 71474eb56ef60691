"""Console screens: dashboard, help and the confirmation modals."""
