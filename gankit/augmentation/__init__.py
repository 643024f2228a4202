"""Data augmentation with a class-conditional generator, and its gain measured (``gankit augment``).

A generator makes extra labelled items; whether they help a downstream classifier is a question
with an answer, so gankit measures it instead of assuming it (Antoniou et al. 2017, "Data
Augmentation Generative Adversarial Networks"; Ravuri & Vinyals 2019, "Classification Accuracy
Score for Conditional Generative Models", who found that GAN samples mostly do *not* help
ImageNet classifiers). One job per module:

* :mod:`~gankit.augmentation.options`: what was asked (``--per-class N | --balance | --ratio K``,
  measuring, filtering) and how many synthetic items each class gets;
* :mod:`~gankit.augmentation.sets`: the run's real data as labelled arrays, split exactly as the
  generator's run split it (the holdout it never saw), a pool of extra real items;
* :mod:`~gankit.augmentation.generate`: the generator (its EMA copy or not) and synthetic items per
  class, optionally kept only when a classifier of the real training split is confident;
* :mod:`~gankit.augmentation.write`: the augmented set on disk (class folders of PNGs with a
  manifest, or a CSV with a ``synthetic`` column);
* :mod:`~gankit.augmentation.classifiers`: the downstream classifiers (a small CNN, gradient
  boosting, logistic regression, or the user's scikit-learn estimator);
* :mod:`~gankit.augmentation.baselines`: the non-generative augmentations to beat (shifts and flips,
  SMOTE);
* :mod:`~gankit.augmentation.gain`: the protocol (real only vs real + synthetic, baselines, extra
  real data, several seeds) and :mod:`~gankit.augmentation.report` its verdict;
* :mod:`~gankit.augmentation.build`: all of it in order (:func:`gankit.augment` calls it).

Nothing here is imported by the training loop; it sits beside :mod:`gankit.api` and uses runs.
"""
