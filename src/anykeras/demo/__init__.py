"""The side-by-side demo: the IMDB classifier, three styles, three backends.

Run once per backend, each in its own process (the backend is fixed for the life
of a process), then once more per backend to load the others' models:

    KERAS_BACKEND=jax python -m anykeras.demo train --artifacts demo-artifacts
    KERAS_BACKEND=jax python -m anykeras.demo load --artifacts demo-artifacts
    python -m anykeras.demo.report demo-artifacts demo-report

Every backend and style starts from the SAME initial weights (one ``.npz`` made
with NumPy, loaded everywhere) and sees the data in the same order (no
shuffling), so differences come from the backends' arithmetic alone.

`train` trains and saves (`anykeras.demo.train`), `load` loads the other backends'
models (`anykeras.demo.load`), and `anykeras.demo.report` compares them all; it needs
NumPy and matplotlib only. ``nox -s demo`` runs the three steps.
"""
