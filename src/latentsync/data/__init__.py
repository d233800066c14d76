"""Training-data preprocessing: seven file-level stages run by a Dask engine.

``broken -> resample -> shot -> segment -> affine -> sync -> quality``; see
:mod:`latentsync.data.engine` for how they are chained and :mod:`latentsync.data.stages`
for the list.
"""
