"""Reading and writing Keras files: weights (Keras 3 and legacy HDF5), .keras archives."""
