"""What every forecasting task shares: windows, their tf.Examples, Transform and the gate."""
