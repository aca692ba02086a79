using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Client;

namespace Idefics3.Samples.McpReceiptAgent;

/// <summary>What the receipt agent loads and asks.</summary>
public sealed class ReceiptAgentOptions
{
    public string Model { get; set; } = ReceiptAgentApp.DefaultModel;

    public string Device { get; set; } = "auto";

    public string Receipt { get; set; } = Path.Combine(AppContext.BaseDirectory, "assets", "invoice_scan.jpg");

    public Currency TargetCurrency { get; set; } = Currency.USD;

    public int MaxTokens { get; set; } = 200;

    /// <summary>
    /// Gets or sets a value indicating whether the model decides whether to call the tool (ToolMode Auto). By default the
    /// first round requires the call, which the constraint then makes valid; later rounds are Auto.
    /// </summary>
    public bool LetModelDecide { get; set; }
}

/// <summary>The round trip: the tools the MCP server offered, the calls the model made, the server's results and the answer.</summary>
public sealed record ReceiptAgentResult(
    IReadOnlyList<McpClientTool> ServerTools, IReadOnlyList<FunctionCallContent> Calls, IReadOnlyList<FunctionResultContent> Results, string Answer);

/// <summary>
/// An Agent Framework agent over a local SmolVLM model that uses the tools of a Model Context Protocol server: it reads
/// a receipt image, calls <c>convert_currency</c> on the MCP server (a stdio server in this same program, started as a
/// child process with the <c>serve</c> argument), and answers with the converted total.
/// </summary>
public static class ReceiptAgentApp
{
    public const string DefaultModel = "HuggingFaceTB/SmolVLM-256M-Instruct";

    /// <summary>The argument that starts the MCP server half of the sample.</summary>
    public const string ServeArgument = "serve";

    public static async Task<ReceiptAgentResult> RunAsync(ReceiptAgentOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);

        // 1. The MCP server: this program again, as a child process speaking MCP over stdin/stdout.
        (string command, string[] arguments) = ServerCommand();
        var transport = new StdioClientTransport(new StdioClientTransportOptions { Name = "currency", Command = command, Arguments = arguments });
        await using McpClient mcp = await McpClient.CreateAsync(transport, cancellationToken: cancellationToken);
        IList<McpClientTool> tools = await mcp.ListToolsAsync(cancellationToken: cancellationToken);
        output.WriteLine($"MCP server tools: {string.Join(", ", tools.Select(t => t.Name))}");

        // 2. The model, as an agent with the server's tools (MCP tools are AIFunctions; the agent invokes them).
        output.WriteLine($"Loading {options.Model} ...");
        await using Idefics3Engine engine = await Idefics3Engine.LoadAsync(
            options.Model, new Idefics3EngineOptions { Device = options.Device }, cancellationToken: cancellationToken);
        using var chatClient = new Idefics3ChatClient(engine);
        AIAgent agent = chatClient.AsAIAgent(
            instructions: "You read receipts. Use the tools to convert amounts between currencies.",
            name: "receipt-agent",
            tools: [.. tools]);

        // 3. One run: the image and the task. FunctionInvokingChatClient (inside the agent) resets the required tool
        //    mode after the first round, so the model answers in text once the result is back.
        DataContent receipt = await DataContent.LoadFromAsync(options.Receipt, cancellationToken: cancellationToken);
        string task = $"Read the total of this receipt, then call {CurrencyTools.ConvertCurrencyName} to convert it to {options.TargetCurrency}.";
        output.WriteLine($"User: [{Path.GetFileName(options.Receipt)}] {task}");
        var chatOptions = new ChatOptions
        {
            MaxOutputTokens = options.MaxTokens,
            Temperature = 0,
            ToolMode = options.LetModelDecide ? ChatToolMode.Auto : ChatToolMode.RequireSpecific(CurrencyTools.ConvertCurrencyName),
            AllowMultipleToolCalls = false,
        };
        AgentResponse response = await agent.RunAsync(
            new ChatMessage(ChatRole.User, [receipt, new TextContent(task)]), options: new ChatClientAgentRunOptions(chatOptions), cancellationToken: cancellationToken);

        List<AIContent> contents = [.. response.Messages.SelectMany(m => m.Contents)];
        List<FunctionCallContent> calls = [.. contents.OfType<FunctionCallContent>()];
        List<FunctionResultContent> results = [.. contents.OfType<FunctionResultContent>()];
        foreach (FunctionCallContent call in calls)
        {
            output.WriteLine($"Tool call: {call.Name}({string.Join(", ", call.Arguments?.Select(a => $"{a.Key}: {a.Value}") ?? [])})");
        }

        foreach (FunctionResultContent result in results)
        {
            output.WriteLine($"Tool result: {result.Result}");
        }

        output.WriteLine($"Assistant: {response.Text}");
        return new ReceiptAgentResult([.. tools], calls, results, response.Text);
    }

    /// <summary>How to start this program as the MCP server: its own executable, or the dotnet host with its assembly.</summary>
    private static (string Command, string[] Arguments) ServerCommand()
    {
        string assembly = typeof(ReceiptAgentApp).Assembly.Location;
        string appHost = Path.ChangeExtension(assembly, OperatingSystem.IsWindows() ? ".exe" : null);
        if (File.Exists(appHost) && Path.GetFileNameWithoutExtension(Environment.ProcessPath) == Path.GetFileNameWithoutExtension(assembly))
        {
            return (appHost, [ServeArgument]);
        }

        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return (dotnet, [assembly, ServeArgument]);
    }
}
