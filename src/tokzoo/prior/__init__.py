"""Models over tokens and the entropy coder they drive.

- :mod:`~tokzoo.prior.coder`, :mod:`~tokzoo.prior.frequencies`, :mod:`~tokzoo.prior.container`: an exact
  integer arithmetic coder, probabilities -> integer frequencies, and the ``.tokc`` coded-token file.
- :mod:`~tokzoo.prior.unigram`: static and adaptive unigram models for the coder.
"""
