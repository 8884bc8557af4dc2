using System.Net;
using ScrapeDo.Lean.Internal;
using ScrapeDo.Lean.Internal.Http;

namespace ScrapeDo.Lean.Tests;

public class FeatureSwitchTests
{
    [Fact]
    public void Automatic_decompression_is_on_by_default()
    {
        Assert.True(FeatureSwitches.IsAutomaticDecompressionSupported);
        using SocketsHttpHandler handler = ApiPipeline.CreateHandler(4);
        Assert.Equal(DecompressionMethods.All, handler.AutomaticDecompression);
        Assert.Equal(4, handler.MaxConnectionsPerServer);
    }

    [Fact]
    public void Switched_off_decompression_leaves_the_handler_untouched()
    {
        using var handler = new SocketsHttpHandler();
        Assert.Same(handler, FeatureSwitches.WithAutomaticDecompression(handler, enabled: false));
        Assert.Equal(DecompressionMethods.None, handler.AutomaticDecompression);
        FeatureSwitches.WithAutomaticDecompression(handler, enabled: true);
        Assert.Equal(DecompressionMethods.All, handler.AutomaticDecompression);
    }
}
