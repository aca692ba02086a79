using System.Text.Json;

namespace Idefics3.ToolCalling;

/// <summary>A tool offered to the model: its name, description and the JSON schema of its arguments.</summary>
/// <param name="Name">The name the model calls it by.</param>
/// <param name="Description">What it does (may be empty).</param>
/// <param name="ParametersSchema">The arguments' JSON schema: an object schema.</param>
internal sealed record ToolDefinition(string Name, string Description, JsonElement ParametersSchema);
