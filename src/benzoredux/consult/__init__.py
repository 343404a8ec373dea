"""Step 5 of the minimal intervention: the evaluation consult and what the patient takes home.

About three months after the stop letter the GP or POH-GGZ holds an evaluation consult (FTO
module, bijlage 2, step 5): it motivates patients who stopped to keep it up and the others to
start, with the tools the module names. One module each:

* :mod:`~benzoredux.consult.records`: consults as a table (who came, the outcome, the scores),
  the record the evaluation counts from;
* :mod:`~benzoredux.consult.questionnaires`: scoring the Bendep-SRQ (dependence) and the BWSQ
  (withdrawal symptoms);
* :mod:`~benzoredux.consult.tapering`: tapering schedules (afbouwschema's), with the switch to
  diazepam and its cited equivalents;
* :mod:`~benzoredux.consult.handouts`: the printable Dutch handouts (the tapering schedule and a
  sleep-wake diary).

The consult itself is a record, :class:`benzoredux.models.Consult`; the public functions are
also importable from :mod:`benzoredux`.
"""
