"""Models over tokens and the entropy coder they drive (see docs/priors.md).

- Entropy coding: :mod:`~tokzoo.prior.coder` (exact integer arithmetic coder), :mod:`~tokzoo.prior.frequencies`
  (probabilities -> integer frequencies with a floor), :mod:`~tokzoo.prior.unigram` (static / adaptive models),
  :mod:`~tokzoo.prior.container` (the ``.tokc`` coded-token file), :mod:`~tokzoo.prior.prior_coding` (the
  coder driven by an AR prior), :mod:`~tokzoo.prior.mixing` (adaptive context-model pieces, model mixing).
- Priors: :mod:`~tokzoo.prior.layout` (every ``Tokens`` layout <-> generation order), :mod:`~tokzoo.prior.ar`
  + :mod:`~tokzoo.prior.kvcache` + :mod:`~tokzoo.prior.ar_sample` (GPT-style next-token / next-scale),
  :mod:`~tokzoo.prior.maskgit`, :mod:`~tokzoo.prior.constraint` (``allowed_next`` masks),
  :mod:`~tokzoo.prior.config`, :mod:`~tokzoo.prior.checkpoint`, :mod:`~tokzoo.prior.train`,
  :mod:`~tokzoo.prior.sample_files`.
"""
