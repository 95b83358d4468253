using System.Globalization;
using System.Text.Json;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Statistics;

/// <summary>The API's names for counter arrays indexed by an enum: kebab-case (<c>illegal-instruction</c>), zero entries left out.</summary>
public static class CounterNames
{
    public static Dictionary<string, ulong> ByName<T>(IReadOnlyList<ulong> counters)
        where T : struct, Enum
    {
        var named = new Dictionary<string, ulong>();
        for (var index = 0; index < counters.Count; index++)
        {
            if (counters[index] != 0)
            {
                named[Name((T)Enum.ToObject(typeof(T), index))] = counters[index];
            }
        }
        return named;
    }

    /// <summary>Counts indexed by privilege level (0 U, 1 S, 3 M) as <c>machine</c>, <c>supervisor</c>, <c>user</c>.</summary>
    public static Dictionary<string, ulong> ByPrivilege(IReadOnlyList<ulong> counters) => new()
    {
        ["machine"] = counters[(int)PrivilegeLevel.Machine],
        ["supervisor"] = counters[(int)PrivilegeLevel.Supervisor],
        ["user"] = counters[(int)PrivilegeLevel.User],
    };

    /// <summary>kebab-case name of an enum value; an undefined one is <c>cause-N</c>.</summary>
    public static string Name<T>(T value)
        where T : struct, Enum =>
        JsonNamingPolicy.KebabCaseLower.ConvertName(Enum.IsDefined(value) ? value.ToString() : $"Cause{Convert.ToInt32(value, CultureInfo.InvariantCulture)}");
}
