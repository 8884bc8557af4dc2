using System.Diagnostics.CodeAnalysis;

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// Trimming feature switches (documented in README, "Native AOT size"). Each defaults to on, which is the library's
/// normal behaviour; an app turns one off with a <c>RuntimeHostConfigurationOption</c> item marked <c>Trim="true"</c>,
/// and the trimmer then removes what the feature roots. Guard code with the property itself (not a copy in a field),
/// or the trimmer cannot see the branch is dead.
/// </summary>
internal static class FeatureSwitches
{
    public const string AutomaticDecompressionName = "ScrapeDo.Lean.Http.AutomaticDecompression.IsSupported";

    /// <summary>
    /// Whether the client asks for and decodes gzip, deflate and Brotli responses on its built-in handler
    /// (<see cref="Http.ResponseDecoding"/>). The codecs and their native libraries cost about 1.1 MB of a native AOT
    /// app (linux-x64, .ci/size-probe, 2026-11-28). Off, responses arrive uncompressed, as with a plain HttpClient.
    /// </summary>
    [FeatureSwitchDefinition(AutomaticDecompressionName)]
    public static bool IsAutomaticDecompressionSupported { get; } =
        !AppContext.TryGetSwitch(AutomaticDecompressionName, out bool enabled) || enabled;
}
