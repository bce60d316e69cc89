"""Staffing forecast (SPEC §8, standard 5.3): agents needed per hour of next week from the
measured arrivals and handle times (Erlang C), next to the supervisors' weekly plan."""
