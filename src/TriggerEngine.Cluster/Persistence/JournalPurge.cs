using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace TriggerEngine.Cluster.Persistence;

/// <summary>
/// Akka.Persistence.Sql keeps the highest row of a deleted range, flagged deleted, so that the sequence
/// number survives. For the ingest log that row may hold a customer's events; erasure must not leave it
/// behind. This removes flagged rows of the log up to a checkpoint position, in the plugin's own table.
/// </summary>
public sealed class JournalPurge(string provider, string connectionString, string table = "journal")
{
    public async Task<int> PurgeAsync(string persistenceId, long throughSequenceNr)
    {
        var sqlite = provider.Equals("sqlite", StringComparison.OrdinalIgnoreCase);
        await using DbConnection db = sqlite ? new SqliteConnection(connectionString) : new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        await using var cmd = db.CreateCommand();
        cmd.CommandText = $"DELETE FROM {table} WHERE persistence_id = @id AND sequence_number <= @seq AND deleted = {(sqlite ? "1" : "true")}";
        var id = cmd.CreateParameter();
        (id.ParameterName, id.Value) = ("@id", persistenceId);
        var seq = cmd.CreateParameter();
        (seq.ParameterName, seq.Value) = ("@seq", throughSequenceNr);
        cmd.Parameters.Add(id);
        cmd.Parameters.Add(seq);
        return await cmd.ExecuteNonQueryAsync();
    }
}
