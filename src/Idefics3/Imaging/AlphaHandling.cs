namespace Idefics3.Imaging;

/// <summary>How transparent pixels become RGB before resizing.</summary>
public enum AlphaHandling
{
    /// <summary>Composite over white (Pillow's <c>alpha_composite</c> arithmetic). The default: what a person sees.</summary>
    CompositeOnWhite = 0,

    /// <summary>
    /// Drop the alpha channel and keep the stored colour, as Pillow's <c>convert("RGB")</c> in Hugging Face's
    /// <c>load_image</c> does (fully transparent pixels then show whatever colour they store, often black).
    /// </summary>
    DropAlpha = 1,
}
