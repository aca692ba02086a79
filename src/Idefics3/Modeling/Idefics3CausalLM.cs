using Idefics3.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Modeling;

/// <summary>
/// The root module (HF <c>Idefics3ForConditionalGeneration</c>'s state-dict layout): <c>model</c> and <c>lm_head</c>.
/// Its named_parameters() are exactly the checkpoint tensor names.
/// </summary>
internal sealed class Idefics3CausalLM : nn.Module
{
    public readonly Idefics3Model model;
    public readonly Linear lm_head;

    public Idefics3CausalLM(WeightSource w, Idefics3Config c, Device device)
        : base("Idefics3ForConditionalGeneration")
    {
        model = new Idefics3Model(w, "model", c, device);
        lm_head = c.TieWordEmbeddings
            ? new Linear("lm_head", model.text_model.embed_tokens.weight)
            : new Linear(w, "lm_head", c.Text.HiddenSize, c.Text.VocabSize, false);
        RegisterComponents();
    }

    /// <summary>Builds the module tree on the meta device: every parameter has its shape, none has storage.</summary>
    public static Idefics3CausalLM CreateOnMeta(Idefics3Config c, ScalarType dtype = ScalarType.BFloat16) =>
        new(new MetaWeightSource(dtype), c, torch.CPU);
}
