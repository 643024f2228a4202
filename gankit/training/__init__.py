"""The one training loop, task-agnostic: it imports no task, modality or model.

``loop.Loop`` runs the steps; ``phases.Stepper`` runs one step of a task's phases (precision,
scalers, micro-batches, DDP, freezing, moving averages, schedules); ``stats`` sums statistics by
name; ``guard`` rolls back on divergence; ``callbacks`` write what the loop reports;
``batches`` draws shuffled batches. ``gankit.run.session`` builds all of it from a config.
"""
