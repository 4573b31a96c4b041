{#-
    Queueing arithmetic in portable SQL (DuckDB, PostgreSQL, Spark): an M/M/c queue (Poisson
    arrivals, exponential service, c servers), as used to staff call centres and response teams.

    The Erlang C probability of waiting, for an offered load a = arrivals per hour x hours per
    call and c servers, is computed from the Poisson terms t_k = a^k / k!, taken as exp(k ln a -
    ln k!) with ln k! a running sum of ln j (no gamma function needed):
        B(c) = t_c / sum_{k<=c} t_k                 (Erlang B, the blocking probability)
        C(c) = c B / (c - a (1 - B))   for c > a    (Erlang C; 1 when c <= a)
    and the share answered within t hours: 1 - C exp(-(c mu - lambda) t), mu = 1 / hours per call.
    tests/test_scenarios.py checks them against textbook values and a simulation.
-#}
{% macro erlang_c(erlang_b, servers, load) -%}
    case
        when {{ servers }} <= {{ load }} then 1.0
        else {{ servers }} * {{ erlang_b }} / ({{ servers }} - {{ load }} * (1 - {{ erlang_b }}))
    end
{%- endmacro %}

{% macro share_answered_within(p_wait, servers, arrivals_per_hour, hours_per_call, hours) -%}
    case
        when {{ servers }} * 1.0 / {{ hours_per_call }} <= {{ arrivals_per_hour }} then 0.0
        else 1 - {{ p_wait }} * exp(-({{ servers }} * 1.0 / {{ hours_per_call }} - {{ arrivals_per_hour }}) * {{ hours }})
    end
{%- endmacro %}
