"""The Model Garden's LAMB (official.modeling.optimization.lamb) applied to given weights and gradients,
in its own venv (tools/reference_venv.py), for tests/bert_tf/test_lamb.py.

    python model_garden_lamb_steps.py IN_NPZ OUT_NPZ

IN_NPZ holds `names` (variable names, e.g. 'dense/kernel'), `weight_<i>`, `gradient_<step>_<i>`,
`learning_rate`, `weight_decay_rate` and `excluded` (name patterns excluded from decay and trust
ratio, as the Model Garden's BERT configs pass them). OUT_NPZ gets `weight_<step>_<i>` after every
step.
"""

import sys

import numpy as np
import tensorflow as tf
from official.modeling.optimization.lamb import LAMB

source, target = sys.argv[1:3]
data = np.load(source)
names = [str(n) for n in data["names"]]
steps = 1 + max(int(k.split("_")[1]) for k in data.files if k.startswith("gradient_"))
variables = [tf.Variable(data[f"weight_{i}"], name=name) for i, name in enumerate(names)]
optimizer = LAMB(
    learning_rate=float(data["learning_rate"]),
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-6,
    weight_decay_rate=float(data["weight_decay_rate"]),
    exclude_from_weight_decay=[str(p) for p in data["excluded"]],
)
after = {}
for step in range(steps):
    gradients = [tf.constant(data[f"gradient_{step}_{i}"]) for i in range(len(names))]
    optimizer.apply_gradients(zip(gradients, variables))
    after.update({f"weight_{step}_{i}": v.numpy() for i, v in enumerate(variables)})
np.savez(target, **after)
