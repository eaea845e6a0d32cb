"""Batch rendering: templates, rosters, a parallel runner (local processes or Dask), reports."""
