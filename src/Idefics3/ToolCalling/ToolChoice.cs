namespace Idefics3.ToolCalling;

/// <summary>What the model may or must do with the offered tools in one request.</summary>
internal enum ToolChoice
{
    /// <summary>Answer in text, or start a call (the call grammar takes over when it does).</summary>
    Auto,

    /// <summary>Call at least one of the tools.</summary>
    RequireAny,

    /// <summary>Call the one named tool.</summary>
    RequireSpecific,
}
