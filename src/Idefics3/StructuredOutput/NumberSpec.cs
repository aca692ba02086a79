namespace Idefics3.StructuredOutput;

/// <summary>
/// What a JSON number may look like: <c>-?(0|[1-9][0-9]{0,MaxIntDigits-1})(\.[0-9]{1,MaxFracDigits})?</c> (no exponent,
/// bounded digits so that the value fits the C# type it came from) with an inclusive range whose bounds lie on the
/// grid of <see cref="MaxFracDigits"/> decimals. <see cref="IsFeasible"/> tells whether a prefix can still end in range.
/// </summary>
/// <param name="MaxIntDigits">The most digits before the point (1..18).</param>
/// <param name="MaxFracDigits">The most digits after the point; 0 for integers.</param>
/// <param name="Min">The inclusive lower bound, or null.</param>
/// <param name="Max">The inclusive upper bound, or null.</param>
internal sealed record NumberSpec(int MaxIntDigits, int MaxFracDigits, decimal? Min, decimal? Max)
{
    /// <summary>Gets the smallest step of the value grid (1 for integers).</summary>
    public decimal Step { get; } = Pow10(-MaxFracDigits);

    /// <summary>True when the value may be produced (in range; "-0" never).</summary>
    public bool InRange(bool negative, decimal magnitude)
    {
        if (negative && magnitude == 0)
        {
            return false;
        }

        decimal value = negative ? -magnitude : magnitude;
        return (Min is null || value >= Min) && (Max is null || value <= Max);
    }

    /// <summary>
    /// True when some completion of the prefix is in range.
    /// </summary>
    /// <param name="negative">Whether the prefix starts with '-'.</param>
    /// <param name="magnitude">The value of the digits so far (integer part plus fraction).</param>
    /// <param name="intDigits">Digits before the point so far (0: none yet).</param>
    /// <param name="zeroLead">Whether the integer part is "0" (no more integer digits may follow).</param>
    /// <param name="fracDigits">Digits after the point so far; -1 when no point yet.</param>
    public bool IsFeasible(bool negative, decimal magnitude, int intDigits, bool zeroLead, int fracDigits)
    {
        decimal fracSpan = MaxFracDigits == 0 ? 0 : 1 - Step; // the most a fraction can add
        if (fracDigits >= 0)
        {
            decimal hi = magnitude + (Pow10(-fracDigits) - Step);
            return Intersects(negative, magnitude, hi);
        }

        if (intDigits == 0)
        {
            return Intersects(negative, 0, Pow10(MaxIntDigits) - Step);
        }

        if (zeroLead)
        {
            return Intersects(negative, 0, fracSpan);
        }

        for (int k = 0; k <= MaxIntDigits - intDigits; k++)
        {
            decimal scale = Pow10(k);
            decimal lo = magnitude * scale;
            if (Intersects(negative, lo, lo + (scale - 1) + fracSpan))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A rough count of the bytes still needed before the number may end (0 when it may end now).</summary>
    public int BytesToEnd(bool negative, decimal magnitude, int intDigits, bool zeroLead, int fracDigits)
    {
        if (intDigits > 0 && (fracDigits != 0) && InRange(negative, magnitude))
        {
            return 0;
        }

        if (intDigits == 0)
        {
            return 1;
        }

        if (fracDigits == 0)
        {
            return 1;
        }

        for (int k = 1; k <= MaxIntDigits - intDigits && !zeroLead && fracDigits < 0; k++)
        {
            decimal scale = Pow10(k);
            decimal lo = magnitude * scale;
            if (Intersects(negative, lo, lo + (scale - 1)))
            {
                return k;
            }
        }

        return 2;
    }

    /// <summary>The fewest bytes of any number in range.</summary>
    public int MinBytes()
    {
        if (Min > Max)
        {
            return int.MaxValue;
        }

        if ((Min is null || Min <= 0) && (Max is null || Max >= 0))
        {
            return 1;
        }

        decimal nearest = Min is > 0 ? Min.Value : -Max!.Value;
        int length = Min is > 0 ? 0 : 1;
        string text = nearest.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return length + text.TrimStart('-').Length;
    }

    /// <summary>10 to the power <paramref name="exponent"/> as a decimal (exponent in -28..28).</summary>
    public static decimal Pow10(int exponent)
    {
        decimal result = 1;
        for (int i = 0; i < Math.Abs(exponent); i++)
        {
            result = exponent > 0 ? result * 10 : result / 10;
        }

        return result;
    }

    private bool Intersects(bool negative, decimal loMagnitude, decimal hiMagnitude)
    {
        if (negative)
        {
            loMagnitude = Math.Max(loMagnitude, Step); // "-0" is never produced
            if (loMagnitude > hiMagnitude)
            {
                return false;
            }

            (loMagnitude, hiMagnitude) = (-hiMagnitude, -loMagnitude);
        }

        decimal lo = Min is null ? loMagnitude : Math.Max(loMagnitude, Min.Value);
        decimal hi = Max is null ? hiMagnitude : Math.Min(hiMagnitude, Max.Value);
        return lo <= hi;
    }
}
