"""sid.weighting: the weighting chain as pure functions over arrays.

design_weights  d = N_h / n_h per stratum of the gross sample
eligibility     unknown-eligibility weight passed on in the eligible share, per class
nonresponse     weighting classes; response-propensity classes (GLM within groups)
margins         calibration margins -> sparse calibration matrix X, totals, names
calibration     calibrate (linear / raking / logit, bounds; (n, R) replicate columns)
ipf             rake (iterative proportional fitting), poststratify
trimming        trim_weights (R's trimWeights), trim_and_recalibrate
diagnostics     weight_summary (quantiles, Kish deff, n_eff), margin_table
distance, compress, feasibility, result: the calibration solver's parts
"""
