"""sine_rnn: a recurrent forecaster (SimpleRNN, LSTM or GRU) of noisy sine waves."""
