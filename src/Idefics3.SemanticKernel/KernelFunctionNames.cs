using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Idefics3.SemanticKernel;

/// <summary>
/// Restores plugin and function names on calls returned to the caller (<c>autoInvoke: false</c>). Semantic Kernel offers a
/// kernel function to an <c>IChatClient</c> as <c>plugin_function</c>, and its bridge hands the call back under that one
/// name with no plugin, which <see cref="FunctionCallContent.InvokeAsync"/> cannot resolve; the kernel's plugins tell
/// the two parts apart.
/// </summary>
internal static class KernelFunctionNames
{
    /// <summary>Replaces, in place, each call without a plugin whose name is <c>plugin_function</c> of a kernel function.</summary>
    public static void Qualify(ChatMessageContentItemCollection items, Kernel kernel)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is not FunctionCallContent { PluginName: null } call)
            {
                continue;
            }

            foreach (KernelPlugin plugin in kernel.Plugins)
            {
                string prefix = plugin.Name + "_";
                if (call.FunctionName.StartsWith(prefix, StringComparison.Ordinal) && plugin.TryGetFunction(call.FunctionName[prefix.Length..], out KernelFunction? function))
                {
                    items[i] = new FunctionCallContent(function.Name, plugin.Name, call.Id, call.Arguments)
                    {
                        InnerContent = call.InnerContent,
                        Metadata = call.Metadata,
                        Exception = call.Exception,
                    };
                    break;
                }
            }
        }
    }
}
