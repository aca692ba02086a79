using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Services;

namespace Idefics3.SemanticKernel.Tests;

/// <summary>Registration: keyed services, one engine per model, options validated when registering.</summary>
public sealed class Idefics3KernelBuilderExtensionsTests
{
    [Fact]
    public async Task Keyed_registrations_resolve_by_service_id_and_share_one_engine_for_the_same_model_folder()
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddIdefics3ChatCompletion(KernelFixture.ModelDirectory, KernelFixture.Configure, serviceId: "a");
        builder.AddIdefics3ChatCompletion(KernelFixture.ModelDirectory + Path.DirectorySeparatorChar, o =>
        {
            KernelFixture.Configure(o);
            o.Engine.Device = "CPU";
            o.Client.ModelId = "tiny-b";
        }, serviceId: "b");
        Kernel kernel = builder.Build();
        using var services = (IDisposable)kernel.Services;

        var a = kernel.GetRequiredService<IChatCompletionService>("a");
        var b = kernel.GetRequiredService<IChatCompletionService>("b");
        IChatClient clientA = kernel.Services.GetRequiredKeyedService<IChatClient>("a");
        IChatClient clientB = kernel.Services.GetRequiredKeyedService<IChatClient>("b");

        Assert.NotSame(a, b);
        Assert.NotSame(clientA, clientB);
        Assert.Null(clientA.GetService<Idefics3Engine>()); // resolving loads nothing
        Assert.Equal("tiny-b", b.GetModelId());
        var history = new ChatHistory();
        history.AddUserMessage("Hi");
        ChatMessageContent reply = await b.GetChatMessageContentAsync(history, new Idefics3PromptExecutionSettings { MaxTokens = 1 });
        Assert.Equal("tiny-b", reply.ModelId);
        await clientA.GetService<Idefics3ChatClient>()!.WarmUpAsync();
        Assert.NotNull(clientA.GetService<Idefics3Engine>());
        Assert.Same(clientA.GetService<Idefics3Engine>(), clientB.GetService<Idefics3Engine>());
    }

    [Fact]
    public async Task A_chat_client_registered_in_the_kernel_builder_resolves_as_IChatClient()
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddIdefics3ChatClient(KernelFixture.ModelDirectory, KernelFixture.Configure);
        builder.AddIdefics3ChatClient(KernelFixture.ModelDirectory, KernelFixture.Configure, serviceId: "keyed");
        Kernel kernel = builder.Build();
        using var services = (IDisposable)kernel.Services;

        IChatClient plain = kernel.GetRequiredService<IChatClient>();
        IChatClient keyed = kernel.Services.GetRequiredKeyedService<IChatClient>("keyed");

        Assert.NotNull(plain.GetService<Idefics3ChatClient>());
        await plain.GetService<Idefics3ChatClient>()!.WarmUpAsync();
        Assert.NotNull(plain.GetService<Idefics3Engine>());
        Assert.Same(plain.GetService<Idefics3Engine>(), keyed.GetService<Idefics3Engine>());
    }

    [Fact]
    public void The_service_collection_registration_returns_a_builder_that_chains_middleware()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIdefics3ChatClient(KernelFixture.ModelDirectory, KernelFixture.Configure).UseLogging().UseOpenTelemetry();
        using ServiceProvider provider = services.BuildServiceProvider();

        IChatClient client = provider.GetRequiredService<IChatClient>();

        Assert.NotNull(client.GetService<OpenTelemetryChatClient>());
        Assert.NotNull(client.GetService<Idefics3ChatClient>());
        Assert.Equal("idefics3-torchsharp", client.GetService<ChatClientMetadata>()!.ProviderName);
    }

    public static TheoryData<string, Action<Idefics3ServiceOptions>> BadRegistrations => new()
    {
        { "MaxImageBytes", o => o.Client.MaxImageBytes = 0 },
        { "ImageDownloadTimeout", o => o.Client.ImageDownloadTimeout = TimeSpan.FromSeconds(-1) },
        { "device", o => o.Engine.Device = "tpu" },
        { "MaxConcurrentRequests", o => o.Engine.MaxConcurrentRequests = 0 },
        { "UnsupportedContent", o => o.Client.UnsupportedContent = (UnsupportedContentBehavior)42 },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public void Bad_options_throw_when_registering_not_at_first_use(string named, Action<Idefics3ServiceOptions> configure)
    {
        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() =>
            Kernel.CreateBuilder().AddIdefics3ChatCompletion(KernelFixture.ModelDirectory, configure));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);

        Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddIdefics3ChatCompletion(KernelFixture.ModelDirectory, configure, "key"));
        Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddIdefics3ChatClient(KernelFixture.ModelDirectory, configure));
    }

    [Theory]
    [InlineData("")]
    [InlineData("./no/such/model")]
    [InlineData("/no/such/model")]
    [InlineData("not a repo id")]
    public void A_model_that_is_neither_a_folder_nor_a_repository_id_throws_when_registering(string model)
    {
        Assert.ThrowsAny<ArgumentException>(() => Kernel.CreateBuilder().AddIdefics3ChatCompletion(model));
        Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddKeyedIdefics3ChatClient("k", model));
    }

    [Fact]
    public async Task Resolving_the_service_over_a_model_that_cannot_load_succeeds_and_the_first_request_fails_with_the_load_error()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"idefics3-empty-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            Kernel kernel = Kernel.CreateBuilder().AddIdefics3ChatCompletion(folder, KernelFixture.Configure).Build();
            using var services = (IDisposable)kernel.Services;
            var chat = kernel.GetRequiredService<IChatCompletionService>();
            var history = new ChatHistory();
            history.AddUserMessage("Hi");

            await Assert.ThrowsAsync<Configuration.ConfigurationException>(() => chat.GetChatMessageContentAsync(history));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_failed_load_is_not_cached_by_the_registry()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"idefics3-empty-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            using var registry = new Idefics3EngineRegistry();
            var options = new Idefics3EngineOptions { Device = "cpu", DType = ModelDType.Float32 };
            await Assert.ThrowsAnyAsync<Exception>(() => registry.GetAsync(folder, options));

            foreach (string file in Directory.GetFiles(KernelFixture.ModelDirectory))
            {
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }

            using Idefics3Engine engine = await registry.GetAsync(folder, options);
            Assert.Same(engine, await registry.GetAsync(folder + Path.DirectorySeparatorChar, new Idefics3EngineOptions { Device = "CPU", DType = ModelDType.Float32 }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
