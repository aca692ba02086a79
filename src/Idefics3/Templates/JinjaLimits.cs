namespace Idefics3.Templates;

/// <summary>
/// The resource limits of the Jinja interpreter. Chat templates arrive with downloaded checkpoints, so they are untrusted
/// input: every limit fails with a <see cref="TemplateException"/> naming it, never a stack overflow, a hang or an
/// unbounded allocation. The figures are far above what real chat templates use (a few levels of nesting, one loop over
/// the messages) and follow Hugging Face's sandboxed environment where it has one (<c>range</c> is capped at 100,000).
/// </summary>
internal static class JinjaLimits
{
    /// <summary>The deepest nesting of brackets in one tag, of expressions and of statement blocks.</summary>
    public const int MaxNestingDepth = 100;

    /// <summary>The deepest nesting of values (lists in lists, mappings in mappings) that is printed, compared or serialized.</summary>
    public const int MaxValueDepth = 256;

    /// <summary>The most items <c>range()</c> may produce (Hugging Face's sandbox: 100,000).</summary>
    public const int MaxRange = 100_000;

    /// <summary>The most loop iterations (bodies and <c>if</c> filters, all loops together) of one rendering.</summary>
    public const int MaxLoopIterations = 1_000_000;

    /// <summary>The longest string (and rendered output) in characters: 16 Mi characters.</summary>
    public const int MaxStringLength = 16 * 1024 * 1024;

    /// <summary>The most items in a list made by the template.</summary>
    public const int MaxListLength = 1_000_000;

    /// <summary>Throws when a string of <paramref name="length"/> characters would exceed <see cref="MaxStringLength"/>.</summary>
    /// <param name="length">The length the operation would produce.</param>
    /// <param name="error">Makes the exception (with the position of the construct).</param>
    public static void CheckStringLength(long length, Func<string, TemplateException> error)
    {
        if (length > MaxStringLength)
        {
            throw error($"string of {length} characters exceeds the template limit of {MaxStringLength}");
        }
    }

    /// <summary>Throws when a list of <paramref name="count"/> items would exceed <see cref="MaxListLength"/>.</summary>
    /// <param name="count">The item count the operation would produce.</param>
    /// <param name="error">Makes the exception (with the position of the construct).</param>
    public static void CheckListLength(long count, Func<string, TemplateException> error)
    {
        if (count > MaxListLength)
        {
            throw error($"list of {count} items exceeds the template limit of {MaxListLength}");
        }
    }
}
