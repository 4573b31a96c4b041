{#-
    Confidence intervals on published proportions (95 %, z = 1.959964).
    Wilson score interval for x successes in n trials (Wilson 1927; Newcombe 1998, method 3):
        centre = (p + z^2 / 2n) / (1 + z^2 / n),  half = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2).
    It stays inside [0, 1] and keeps its coverage for small n and p near 0 or 1, unlike p +- 1.96 se.
    Exactly 0 for x = 0 and 1 for x = n (rounding would leave 1e-19). NULL when n is 0 or NULL.
    tests/test_intervals.py checks it against Newcombe's worked values.
-#}
{% macro wilson_low(successes, trials, z=1.959964) -%}
    case
        when {{ successes }} = 0 and {{ trials }} > 0 then 0.0
        when {{ trials }} > 0 then
        (
            (cast({{ successes }} as {{ type_double() }}) / {{ trials }} + {{ z }} * {{ z }} / (2.0 * {{ trials }}))
            - {{ z }} * sqrt(
                (cast({{ successes }} as {{ type_double() }}) / {{ trials }})
                * (1 - cast({{ successes }} as {{ type_double() }}) / {{ trials }}) / {{ trials }}
                + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}

{% macro wilson_high(successes, trials, z=1.959964) -%}
    case
        when {{ successes }} = {{ trials }} and {{ trials }} > 0 then 1.0
        when {{ trials }} > 0 then
        (
            (cast({{ successes }} as {{ type_double() }}) / {{ trials }} + {{ z }} * {{ z }} / (2.0 * {{ trials }}))
            + {{ z }} * sqrt(
                (cast({{ successes }} as {{ type_double() }}) / {{ trials }})
                * (1 - cast({{ successes }} as {{ type_double() }}) / {{ trials }}) / {{ trials }}
                + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}

{#-
    95 % interval of a Poisson count n (exact limits chi2(0.025; 2n) / 2 and chi2(0.975; 2n + 2) / 2,
    by Byar's approximation, within 0.2 % of them from n = 10; Breslow & Day 1987, p. 69):
        low = n (1 - 1/(9n) - z / (3 sqrt n))^3,  high = (n + 1) (1 - 1/(9(n + 1)) + z / (3 sqrt(n + 1)))^3.
    A rate per call, per resident or per dollar divides these limits by its fixed denominator.
-#}
{% macro poisson_low(count, z=1.959964) -%}
    case
        when {{ count }} = 0 then 0.0
        when {{ count }} > 0 then
            {{ count }} * power(
                1 - 1.0 / (9 * {{ count }}) - {{ z }} / (3 * sqrt(cast({{ count }} as {{ type_double() }}))), 3
            )
    end
{%- endmacro %}

{% macro poisson_high(count, z=1.959964) -%}
    case
        when {{ count }} >= 0 then
            ({{ count }} + 1) * power(
                1 - 1.0 / (9 * ({{ count }} + 1)) + {{ z }} / (3 * sqrt(cast({{ count }} + 1 as {{ type_double() }}))), 3
            )
    end
{%- endmacro %}

{#- One-sided (upper tail) p-value of a standard normal statistic z: 1 - Phi(z). -#}
{% macro upper_normal_p(z) -%}
    case
        when ({{ z }}) >= 0 then {{ two_sided_normal_p(z) }} / 2
        else 1 - {{ two_sided_normal_p(z) }} / 2
    end
{%- endmacro %}

{#-
    z statistic of the log of a quotient of shares (a/a_total) / (b/b_total), the location
    quotient's test of "no different from 1" with the standard error of its interval below; a
    zero b counts as 0.5 (Haldane's correction), so an area with stops and no crime is tested too.
-#}
{% macro quotient_of_shares_z(a, a_total, b, b_total) -%}
    case
        when {{ a }} > 0 and {{ a_total }} > 0 and {{ b_total }} > 0 then
            ln(
                (cast({{ a }} as {{ type_double() }}) / {{ a_total }})
                / (case when {{ b }} > 0 then cast({{ b }} as {{ type_double() }}) else 0.5 end / {{ b_total }})
            )
            -- NULL, not an error, where the variance is 0 (an area holding all of both counts)
            / nullif(sqrt(
                1.0 / {{ a }} - 1.0 / {{ a_total }}
                + 1.0 / case when {{ b }} > 0 then {{ b }} else 0.5 end - 1.0 / {{ b_total }}
            ), 0)
    end
{%- endmacro %}

{#-
    Two-sided p-value of a standard normal statistic z: 2 (1 - Phi(|z|)), by Zelen & Severo's
    polynomial (Abramowitz & Stegun 26.2.17, absolute error below 7.5e-8), portable SQL.
-#}
{% macro two_sided_normal_p(z) -%}
    (
        2 * exp(-0.5 * ({{ z }}) * ({{ z }})) / 2.5066282746310002
        * (
            0.319381530 * (1 / (1 + 0.2316419 * abs({{ z }})))
            - 0.356563782 * power(1 / (1 + 0.2316419 * abs({{ z }})), 2)
            + 1.781477937 * power(1 / (1 + 0.2316419 * abs({{ z }})), 3)
            - 1.821255978 * power(1 / (1 + 0.2316419 * abs({{ z }})), 4)
            + 1.330274429 * power(1 / (1 + 0.2316419 * abs({{ z }})), 5)
        )
    )
{%- endmacro %}

{#-
    95 % interval of a quotient of two shares, (a / a_total) / (b / b_total), such as the location
    quotient (an area's share of stops over its share of crime): on the log scale with
    var(log q) = 1/a - 1/a_total + 1/b - 1/b_total (the delta method for two proportions of
    independent totals; Moineddin, Beyene & Boyle 2003, Int J Health Geogr 2:7), so
    low = q exp(-z sqrt(var)), high = q exp(z sqrt(var)). NULL where a or b is 0 (no log scale).
-#}
{% macro quotient_of_shares_low(a, a_total, b, b_total, z=1.959964) -%}
    {{ _quotient_of_shares(a, a_total, b, b_total, '-' ~ z) }}
{%- endmacro %}

{% macro quotient_of_shares_high(a, a_total, b, b_total, z=1.959964) -%}
    {{ _quotient_of_shares(a, a_total, b, b_total, z) }}
{%- endmacro %}

{% macro _quotient_of_shares(a, a_total, b, b_total, signed_z) -%}
    case
        when {{ a }} > 0 and {{ b }} > 0 and {{ a_total }} > 0 and {{ b_total }} > 0 then
            (cast({{ a }} as {{ type_double() }}) / {{ a_total }}) / (cast({{ b }} as {{ type_double() }}) / {{ b_total }})
            * exp(({{ signed_z }}) * sqrt(
                1.0 / {{ a }} - 1.0 / {{ a_total }} + 1.0 / {{ b }} - 1.0 / {{ b_total }}
            ))
    end
{%- endmacro %}

{#-
    The 97.5 % quantile of Student's t with df degrees of freedom (for a 95 % two-sided interval),
    by its Cornish-Fisher expansion around z = 1.959964 (Abramowitz and Stegun 26.7.5): 3.159 for
    df = 3 (exact 3.182), 2.769 for 4 (2.776), 2.228 for 10 (2.228); too small below 3, where the
    marts that use it give no verdict. NULL for df < 1.
-#}
{% macro t_critical_975(df) -%}
    case
        when {{ df }} >= 1 then
            1.959964
            + 2.3723 / ({{ df }})
            + 2.8225 / power({{ df }}, 2)
            + 2.5558 / power({{ df }}, 3)
    end
{%- endmacro %}

{#-
    Ranks (1-based) of the order statistics that bound a 95 % distribution-free interval of the
    p-quantile of n values: floor(n p - z sqrt(n p (1 - p))) and ceil(n p + z sqrt(n p (1 - p))),
    kept within 1..n (Conover, Practical Nonparametric Statistics, 3rd ed., 5.2, the normal
    approximation to the binomial). The interval holds the quantile with probability
    F(high - 1) - F(low - 1), F the Binomial(n, p) distribution function.
-#}
{% macro order_statistic_rank_low(n, p, z=1.959964) -%}
    greatest(1, floor({{ n }} * {{ p }} - {{ z }} * sqrt({{ n }} * {{ p }} * (1 - {{ p }}))))
{%- endmacro %}

{% macro order_statistic_rank_high(n, p, z=1.959964) -%}
    least({{ n }}, ceil({{ n }} * {{ p }} + {{ z }} * sqrt({{ n }} * {{ p }} * (1 - {{ p }}))))
{%- endmacro %}
