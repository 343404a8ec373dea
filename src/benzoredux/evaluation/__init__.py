"""Step 6 of the intervention: monitoring and evaluation (FTO module, bijlage 3 and 4).

* :mod:`~benzoredux.evaluation.effect`: who stopped, and by how much the others cut down;
* :mod:`~benzoredux.evaluation.process`: dates and counts of letters, invitations, consults;
* :mod:`~benzoredux.evaluation.indicators`: chronic users against the standard practice,
  prescriptions outside a consult, progress against the practice's targets;
* :mod:`~benzoredux.evaluation.forecast`: expected patients per step at selection time;
* :mod:`~benzoredux.evaluation.plan`: the plan of action as a dated, editable task list;
* :mod:`~benzoredux.evaluation.charts`: charts for the FTO meeting (``charts`` extra);
* :mod:`~benzoredux.evaluation.sharing`: aggregates without patient data, and the mirror report.

The package itself imports nothing: each module is loaded when it is used.
"""
