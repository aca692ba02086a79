using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Idefics3.SemanticKernel.Tests;

/// <summary>A kernel with the tiny random model (float32) registered through AddIdefics3ChatCompletion, built once per test class.</summary>
public sealed class KernelFixture : IDisposable
{
    public KernelFixture()
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddIdefics3ChatCompletion(ModelDirectory, Configure);
        Kernel = builder.Build();
    }

    public static string ModelDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-idefics3", "model");

    public Kernel Kernel { get; }

    public IChatCompletionService ChatCompletion => Kernel.GetRequiredService<IChatCompletionService>();

    /// <summary>The Microsoft.Extensions.AI client under the service: the reference path every SK test compares with.</summary>
    public IChatClient ChatClient => Kernel.GetRequiredService<IChatClient>();

    /// <summary>The engine under the client, loaded on first use (the registration loads lazily).</summary>
    public Idefics3Engine Engine
    {
        get
        {
            ChatClient.GetService<Idefics3ChatClient>()!.WarmUpAsync().GetAwaiter().GetResult();
            return ChatClient.GetService<Idefics3Engine>()!;
        }
    }

    public static void Configure(Idefics3ServiceOptions options)
    {
        options.Engine.Device = "cpu";
        options.Engine.DType = ModelDType.Float32;
    }

    public static byte[] Image(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", "tiny", name));

    public static byte[] ImageA => Image("golden_A_56x56.png");

    public static byte[] ImageC => Image("golden_C_120x100.png");

    public static GenerationResult Raw(ChatMessageContent content) => Assert.IsType<GenerationResult>(content.InnerContent);

    public static GenerationResult Raw(ChatResponse response) => Assert.IsType<GenerationResult>(response.RawRepresentation);

    public void Dispose() => (Kernel.Services as IDisposable)?.Dispose();
}
