namespace Idefics3.Configuration;

/// <summary>
/// The <c>rope_scaling</c> block of a Llama text config. Only the <c>llama3</c> rule is supported (Idefics3-8B);
/// a null block or <c>rope_type: "default"</c> means no scaling and is represented by a null <see cref="RopeScaling"/>.
/// </summary>
/// <param name="RopeType">The rope type; always <c>llama3</c>.</param>
/// <param name="Factor">The long-wavelength division factor (<c>factor</c>, 8 for Idefics3-8B).</param>
/// <param name="LowFreqFactor">The <c>low_freq_factor</c> (1).</param>
/// <param name="HighFreqFactor">The <c>high_freq_factor</c> (4).</param>
/// <param name="OriginalMaxPositionEmbeddings">The <c>original_max_position_embeddings</c> (8192).</param>
public sealed record RopeScaling(string RopeType, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings)
{
    internal static RopeScaling? Read(JsonFields text)
    {
        JsonFields? block = text.Object("rope_scaling");
        if (block is not { } f)
        {
            return null;
        }

        string? type = f.OptionalString("rope_type") ?? f.OptionalString("type");
        string field = f.Has("rope_type") ? "rope_type" : "type";
        switch (type)
        {
            case null or "default":
                return null;
            case "llama3":
                var scaling = new RopeScaling(
                    "llama3",
                    f.RequiredDouble("factor"),
                    f.RequiredDouble("low_freq_factor"),
                    f.RequiredDouble("high_freq_factor"),
                    f.RequiredInt("original_max_position_embeddings"));
                if (scaling.Factor <= 0)
                {
                    throw f.Error("factor", "must be positive");
                }

                if (scaling.HighFreqFactor <= scaling.LowFreqFactor)
                {
                    throw f.Error("high_freq_factor", "must be greater than low_freq_factor");
                }

                if (scaling.OriginalMaxPositionEmbeddings <= 0)
                {
                    throw f.Error("original_max_position_embeddings", "must be positive");
                }

                return scaling;
            default:
                throw f.Error(field, $"unsupported rope type '{type}' (supported: default, llama3)");
        }
    }
}
