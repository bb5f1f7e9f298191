"""Car features, declared as data: which columns feed the wide and the deep part."""

LABEL = "Miles_per_Gallon"
NUMERIC = ("Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Year")
CATEGORICAL = ("Origin",)
CROSS = ("Origin", "Cylinders")  # the wide part memorises this combination (e.g. US V8s)
CROSS_NAME = "Origin_x_Cylinders"
COLUMNS = (LABEL, *NUMERIC, *CATEGORICAL)
MAIN, AUX = "mpg", "aux"  # model outputs: the prediction, and the deep part's own (training aid)
