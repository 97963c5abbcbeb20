"""cryptorobot: a realtime service framework in the style of FeathersJS."""
