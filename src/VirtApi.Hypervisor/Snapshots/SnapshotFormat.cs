using System.Text.Json;
using System.Text.Json.Serialization;

namespace VirtApi.Hypervisor.Snapshots;

/// <summary>
/// How a <see cref="VmSnapshotState"/> is written: UTF-8 JSON with a format version. A reader refuses
/// another version and any field it does not know, rather than restoring a machine nobody saved.
/// </summary>
public static class SnapshotFormat
{
    /// <summary>The version this build writes and reads. Raised whenever a saved record changes shape.</summary>
    public const int Version = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static byte[] Serialize(VmSnapshotState state) => JsonSerializer.SerializeToUtf8Bytes(state, Json);

    /// <summary>The state in <paramref name="json"/>; throws <see cref="SnapshotFormatException"/> when it is not one this build can restore.</summary>
    public static VmSnapshotState Deserialize(ReadOnlySpan<byte> json)
    {
        VmSnapshotState? state;
        try
        {
            state = JsonSerializer.Deserialize<VmSnapshotState>(json, Json);
        }
        catch (JsonException exception)
        {
            throw new SnapshotFormatException($"the machine state is not valid: {exception.Message}");
        }
        if (state is null)
        {
            throw new SnapshotFormatException("the machine state is empty");
        }
        if (state.Format != Version)
        {
            throw new SnapshotFormatException($"the machine state is format {state.Format}; this server reads format {Version}");
        }
        return state;
    }
}

/// <summary>A saved state this build cannot restore (another format version, a damaged record).</summary>
public sealed class SnapshotFormatException(string message) : Exception(message);
