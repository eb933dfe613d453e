"""Weight averaging in fine-tuning (`--ema_momentum`): after `fit`, the model holds the exponential moving
average of the weights of every step, not the last step's weights, and validation inside `fit` sees the
average too."""

import keras
import numpy as np
import pytest

from bert_tf.training.optimization import create_optimizer


class _WeightsAfterEveryStep(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps: list[list[np.ndarray]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append([v.numpy().copy() for v in self.model.trainable_variables])


@pytest.mark.parametrize("layer_decay", [1.0, 0.5])
def test_fit_ends_with_the_moving_average_of_every_step(layer_decay):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    momentum = 0.8
    model.compile(
        optimizer=create_optimizer(
            "adamw", 1e-2, layer_decay=layer_decay, num_layers=1, ema_momentum=momentum
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 2, 64)
    recorder = _WeightsAfterEveryStep()
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        validation_data=(x, y),
        callbacks=[recorder, keras.callbacks.SwapEMAWeights()],
        verbose=0,
        shuffle=False,
    )
    assert len(recorder.steps) == 16
    average = recorder.steps[0]  # Keras starts the average at the first step's weights
    for weights in recorder.steps[1:]:
        average = [momentum * a + (1 - momentum) * w for a, w in zip(average, weights)]
    final = [v.numpy() for v in model.trainable_variables]
    for got, want, last in zip(final, average, recorder.steps[-1]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, last)  # not simply the last step's weights
    # The last epoch's validation ran on the averaged weights: the same loss as evaluating them now.
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x, y, verbose=0), 1e-5)


def test_weight_averaging_is_checked():
    with pytest.raises(ValueError, match="ema_momentum must be in"):
        create_optimizer("adamw", 1e-3, ema_momentum=1.0)
    with pytest.raises(ValueError, match="adamw only"):
        create_optimizer("lamb", 1e-3, ema_momentum=0.99)
