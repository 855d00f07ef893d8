Attribute VB_Name = "BmsExcel"
Option Explicit

' bms_excel: the Excel buttons. Source of truth for the VBA; see macros/README.md.
' Keep this file ASCII only with CRLF line endings: Norwegian text belongs in Python.
' Each button is one Public Sub that calls RunPython on bms_excel.excel_buttons.
' RunPython comes from the xlwings add-in or from the embedded module xlwings.bas.

Public Sub BmsValidate()
    On Error GoTo Failed
    RunPython "import bms_excel.excel_buttons; bms_excel.excel_buttons.validate()"
    Exit Sub
Failed:
    BmsShowError Err.Number, Err.Description
End Sub

Public Sub BmsGenerate()
    On Error GoTo Failed
    RunPython "import bms_excel.excel_buttons; bms_excel.excel_buttons.generate()"
    Exit Sub
Failed:
    BmsShowError Err.Number, Err.Description
End Sub

Public Sub BmsCollect()
    On Error GoTo Failed
    RunPython "import bms_excel.excel_buttons; bms_excel.excel_buttons.collect()"
    Exit Sub
Failed:
    BmsShowError Err.Number, Err.Description
End Sub

Public Sub BmsConsolidate()
    On Error GoTo Failed
    RunPython "import bms_excel.excel_buttons; bms_excel.excel_buttons.consolidate()"
    Exit Sub
Failed:
    BmsShowError Err.Number, Err.Description
End Sub

Private Sub BmsShowError(ByVal number As Long, ByVal description As String)
    ' Python errors are shown by xlwings itself (a message box with the traceback).
    ' This catches what fails before Python starts: no Python, no xlwings, wrong path.
    Application.StatusBar = False
    MsgBox "Python-kommandoen kunne ikke startes (feil " & number & "):" & vbLf & vbLf & _
        description & vbLf & vbLf & _
        "Sjekk at Python med bms-excel[xlwings] er installert, og Interpreter_Win " & _
        "i arket xlwings.conf. Se macros/README.md.", vbExclamation, "bms"
End Sub
