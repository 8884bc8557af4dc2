using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// Trimming feature switches (documented in README, "Native AOT size"). Each defaults to on, which is the library's
/// normal behaviour; an app turns one off with a <c>RuntimeHostConfigurationOption</c> item marked <c>Trim="true"</c>,
/// and the trimmer then removes what the feature roots.
/// </summary>
internal static class FeatureSwitches
{
    public const string AutomaticDecompressionName = "ScrapeDo.Lean.Http.AutomaticDecompression.IsSupported";

    /// <summary>
    /// Whether the built-in handler asks for and decodes gzip, deflate and Brotli responses. Setting
    /// <see cref="SocketsHttpHandler.AutomaticDecompression"/> at all, even to <c>None</c>, roots the framework's
    /// decompression handler with every codec and its native encoder: 1,111,896 bytes of a native AOT app (linux-x64,
    /// measured with .ci/size-probe on 2026-11-28). Off, responses arrive uncompressed, as with a plain HttpClient.
    /// </summary>
    [FeatureSwitchDefinition(AutomaticDecompressionName)]
    public static bool IsAutomaticDecompressionSupported =>
        !AppContext.TryGetSwitch(AutomaticDecompressionName, out bool enabled) || enabled;

    /// <summary>Turns on every decompression method when <paramref name="enabled"/>; the setter is never reached otherwise.</summary>
    public static SocketsHttpHandler WithAutomaticDecompression(SocketsHttpHandler handler, bool enabled)
    {
        if (enabled)
        {
            handler.AutomaticDecompression = DecompressionMethods.All;
        }

        return handler;
    }
}
